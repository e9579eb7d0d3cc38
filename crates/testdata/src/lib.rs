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

/// The `copy`-th variant of an indicator value from a list, for growing the
/// maltrail lists to a million indicators in benchmarks: the value itself
/// for copy 0, then `v{copy}-` before host names and addresses moved by a
/// fixed step (networks are not varied).
pub fn trail_variant(value: &str, copy: u32) -> Option<String> {
    if copy == 0 {
        return Some(value.to_owned());
    }
    let host_end = value.find(['/', ':']).unwrap_or(value.len());
    let (host, rest) = value.split_at(host_end);
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        if rest.starts_with('/') {
            return None;
        }
        let step = copy.wrapping_mul(0x0100_0193);
        let moved = std::net::Ipv4Addr::from(u32::from(ip).wrapping_add(step));
        return Some(format!("{moved}{rest}"));
    }
    (!host.is_empty()).then(|| format!("v{copy}-{host}{rest}"))
}

/// The values of a maltrail-style list: one per line, `#` comments (at the
/// start, or after a space) left out.
pub fn trail_values(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter(|value| !value.is_empty() && !value.starts_with('#'))
}
