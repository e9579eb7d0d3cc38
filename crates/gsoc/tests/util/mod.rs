//! Helpers for the command-line tests: a fresh temporary folder per test
//! and a builder for `gsoc` commands.

use std::borrow::BorrowMut;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary folder and a way to run gsoc in it.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// A new empty folder.
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent folders");
        }
        std::fs::write(&path, contents).expect("write a fixture");
        path
    }

    /// A gsoc command running in this folder, in English, without progress.
    pub fn gsoc(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gsoc"));
        cmd.current_dir(self.dir.path())
            .env("GSOC_LANG", "en")
            .env_remove("GSOC_RULES")
            .env_remove("GSOC_THREADS")
            .args(args);
        cmd
    }
}

/// A path in this crate's test data.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs a command and insists that it succeeds; prints everything when not.
pub fn run_ok(mut cmd: impl BorrowMut<Command>) -> Output {
    let out = cmd
        .borrow_mut()
        .stdin(Stdio::null())
        .output()
        .expect("gsoc runs");
    assert!(
        out.status.success(),
        "gsoc failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Standard output as JSON lines.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
