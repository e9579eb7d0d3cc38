//! The boundary every stage reads through: paths named on the command line
//! (or bytes received over the network) become [`Input`]s, folders are
//! walked in a stable order with documentation passed over, gzip is opened
//! wherever it is found, and whatever cannot be read becomes a [`Problem`]
//! that says so instead of vanishing.
//!
//! Takes paths or bytes; gives [`Input`]s, [`Problem`]s and readers. The
//! log decoders, the indicator importers, the mail reader and the Sigma
//! rule loader all walk and open their inputs here, so that a folder means
//! the same thing to each of them.
//!
//! ```
//! use gsoc_input::{Input, Walk};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("README.md"), "about").unwrap();
//! std::fs::write(dir.path().join("a.log"), "line").unwrap();
//! let (inputs, problems) = Walk::new().expand(&[dir.path().to_owned()]);
//! assert!(problems.is_empty());
//! assert_eq!(inputs, [Input::File(dir.path().join("a.log"))]);
//! ```
#![deny(missing_docs)]

mod open;
mod walk;

pub use open::{HEAD_BYTES, Opened, open, read_all};
pub use walk::{Walk, expand, is_documentation};

use std::path::PathBuf;
use std::sync::Arc;

/// One input: a file, standard input, or bytes already in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-` on the command line).
    Stdin,
    /// Bytes already in memory (a batch received over the network, a test
    /// fixture, a fuzzer's input), with the name to report.
    Memory {
        /// The name used in reports.
        name: String,
        /// The content.
        bytes: Arc<[u8]>,
    },
}

impl Input {
    /// The name used in reports: the path as given, `-` for standard input.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_owned(),
            Input::Memory { name, .. } => name.clone(),
        }
    }

    /// The file's path, for inputs that are files.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Input::File(p) => Some(p),
            _ => None,
        }
    }
}

/// An input that could not be read, or is not of the kind expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The input's name.
    pub file: Arc<str>,
    /// What is wrong, and where it helps, what to do.
    pub message: String,
}

impl Problem {
    /// A problem with the input named `file`.
    pub fn new(file: impl Into<Arc<str>>, message: impl Into<String>) -> Problem {
        Problem {
            file: file.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}
