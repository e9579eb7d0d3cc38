//! Helpers shared by the tests that use the public corpora in
//! `../shared/data` (see its README). Those tests skip, saying why, when the
//! data is not there.

use std::path::PathBuf;

/// The shared data directory: `$GSOC_SHARED_DATA`, or `../shared/data`
/// beside the repository.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("GSOC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: the shared test data is not at {} (set GSOC_SHARED_DATA to its path)",
            dir.display()
        );
        None
    }
}
