//! Where gsoc's tests and benches find their data: the shared public
//! corpora (`$GSOC_SHARED_DATA`, else `../shared/data` beside the
//! repository; see its README) and the repository's own samples. Tests that
//! need the shared corpora skip, saying why, when they are not there.

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared data directory, when it is there.
pub fn shared_root() -> Option<PathBuf> {
    let dir = std::env::var_os("GSOC_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    dir.is_dir().then_some(dir)
}

/// The shared data directory; when it is not there, says on stderr that
/// the calling test is skipped and why.
pub fn shared_data() -> Option<PathBuf> {
    let found = shared_root();
    if found.is_none() {
        eprintln!(
            "skipped: the shared test data is not at {} (set GSOC_SHARED_DATA to its path)",
            repo().join("../shared/data").display()
        );
    }
    found
}

/// A path in the shared data, when it exists (for benches, which fall back
/// to the repository samples).
pub fn shared(path: &str) -> Option<PathBuf> {
    shared_root()
        .map(|root| root.join(path))
        .filter(|p| p.exists())
}
