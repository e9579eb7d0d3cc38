//! Where messages come from: `.eml` files, mbox files (split on their
//! `From ` lines) and Maildir folders, found by walking the paths given.

use std::path::{Path, PathBuf};

use gsoc_input::{Input, Problem, Walk};
use serde::Serialize;

/// Where one message was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// The message's position in an mbox file (1-based); absent for a file
    /// that holds one message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<usize>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.message {
            Some(n) => write!(f, "{} (message {n})", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// A message as read, before parsing.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// Where it was read from.
    pub origin: Origin,
    /// Its bytes (RFC 5322, with any mbox `From ` line removed).
    pub bytes: Vec<u8>,
}

/// A file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// The message files under the given paths: files as given, folders walked
/// through `gsoc-input` (Maildir's `tmp` folders, which hold messages still
/// being written, documentation, and the index files that travel with
/// mail corpora are passed over), in a stable order; `-` is standard
/// input. Folders or entries that cannot be read are the problems.
pub fn message_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Problem>) {
    let (inputs, problems) = Walk::new()
        .skip_folder(&["tmp"])
        .keep(|path| !is_corpus_index(path))
        .expand(paths);
    let files = inputs
        .into_iter()
        .map(|input| {
            input
                .path()
                .map_or_else(|| PathBuf::from("-"), Path::to_owned)
        })
        .collect();
    (files, problems)
}

/// Index and listing files that mail corpora carry beside their messages.
fn is_corpus_index(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or("");
    matches!(stem, "index" | "sources") || name.ends_with(".csv") || name.ends_with(".json")
}

/// Reads one file (gunzipped when it is gzip; `-` is standard input): one
/// message, or each message of an mbox file.
pub fn read_file(path: &Path) -> Result<Vec<RawMessage>, ReadError> {
    let input = if path.as_os_str() == "-" {
        Input::Stdin
    } else {
        Input::File(path.to_owned())
    };
    let bytes = gsoc_input::read_all(&input).map_err(|source| ReadError {
        path: path.to_owned(),
        source,
    })?;
    Ok(split(path, bytes))
}

/// One message, or an mbox file's messages: an mbox starts with a `From `
/// line, and each later `From ` line after an empty line starts another.
pub fn split(path: &Path, bytes: Vec<u8>) -> Vec<RawMessage> {
    if !bytes.starts_with(b"From ") {
        return vec![RawMessage {
            origin: Origin {
                file: path.to_owned(),
                message: None,
            },
            bytes,
        }];
    }
    let starts = mbox_starts(&bytes);
    let single = starts.len() == 1;
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
            let body_start =
                memchr::memchr(b'\n', &bytes[start..end]).map_or(end, |n| start + n + 1);
            RawMessage {
                origin: Origin {
                    file: path.to_owned(),
                    message: (!single).then_some(i + 1),
                },
                bytes: unescape_from(&bytes[body_start..end]),
            }
        })
        .collect()
}

/// Where each message of an mbox starts (its `From ` line).
fn mbox_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    for found in memchr::memmem::find_iter(bytes, b"\n\nFrom ") {
        starts.push(found + 2);
    }
    for found in memchr::memmem::find_iter(bytes, b"\r\n\r\nFrom ") {
        starts.push(found + 4);
    }
    starts.sort_unstable();
    starts
}

/// Undoes mboxrd quoting (`>From ` at the start of a body line).
fn unescape_from(bytes: &[u8]) -> Vec<u8> {
    if memchr::memmem::find(bytes, b"\n>From ").is_none() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(found) = memchr::memmem::find(rest, b"\n>From ") {
        out.extend_from_slice(&rest[..=found]);
        rest = &rest[found + 2..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_files_split_on_from_lines_and_unquote() {
        let mbox = b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\nhello\n>From here\n\nFrom b@example.org Mon Jan  1 00:00:00 2024\nSubject: two\n\nbye\n".to_vec();
        let messages = split(Path::new("box"), mbox);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].bytes.starts_with(b"Subject: one"));
        assert!(String::from_utf8_lossy(&messages[0].bytes).contains("\nFrom here"));
        assert_eq!(messages[1].origin.message, Some(2));
        assert!(messages[1].bytes.starts_with(b"Subject: two"));
    }

    #[test]
    fn a_plain_message_is_one_message() {
        let messages = split(Path::new("m.eml"), b"Subject: x\n\nFrom here on\n".to_vec());
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].origin.message, None);
    }
}
