use std::fmt;

use crate::yaml::Pos;

/// Why a rule (or a mapping file) could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The file, as given.
    pub path: String,
    /// Where in the file, when known.
    pub pos: Option<Pos>,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// A sentence a rule author can act on.
    pub message: String,
}

/// The kinds of [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The YAML is malformed.
    Yaml,
    /// A required key is missing or has the wrong shape.
    Structure,
    /// An unknown or misused value modifier.
    Modifier,
    /// The condition does not parse or names an unknown search identifier.
    Condition,
    /// A value cannot be used (bad regular expression, bad CIDR, …).
    Value,
    /// A construct the Sigma specification no longer supports.
    Unsupported,
}

impl ErrorKind {
    /// A short stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Yaml => "yaml",
            ErrorKind::Structure => "structure",
            ErrorKind::Modifier => "modifier",
            ErrorKind::Condition => "condition",
            ErrorKind::Value => "value",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Error {
            path: String::new(),
            pos,
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn at(kind: ErrorKind, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(kind, Some(pos), message)
    }

    pub(crate) fn in_file(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(pos) => write!(
                f,
                "{}:{}:{}: {}",
                self.path, pos.line, pos.col, self.message
            ),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for Error {}
