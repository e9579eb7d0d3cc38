//! Opening an input for reading, with gzip undone wherever it is found.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::Input;

/// How much of an input is read ahead to recognise what it holds.
pub const HEAD_BYTES: usize = 64 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened input: its first bytes (after gzip, if it was gzip), read
/// ahead so that callers can recognise the content, and the rest.
pub struct Opened {
    /// Up to the first 64 KiB of the content.
    pub head: Vec<u8>,
    /// The content after `head`.
    pub rest: Box<dyn Read + Send>,
    /// Whether the input was gzip.
    pub gzip: bool,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("head", &self.head.len())
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// The whole content from its start, as one reader.
    pub fn into_reader(self) -> impl Read + Send {
        Cursor::new(self.head).chain(self.rest)
    }
}

/// Opens an input, gunzipping it when it is gzip.
pub fn open(input: &Input) -> io::Result<Opened> {
    let mut raw: Box<dyn Read + Send> = match input {
        Input::File(path) => Box::new(File::open(path)?),
        Input::Stdin => Box::new(io::stdin()),
        Input::Memory { bytes, .. } => Box::new(Cursor::new(Arc::clone(bytes))),
    };
    let head = read_head(&mut raw)?;
    if !head.starts_with(&GZIP_MAGIC) {
        return Ok(Opened {
            head,
            rest: raw,
            gzip: false,
        });
    }
    let mut gz: Box<dyn Read + Send> = Box::new(MultiGzDecoder::new(Cursor::new(head).chain(raw)));
    let head = read_head(&mut gz)?;
    Ok(Opened {
        head,
        rest: gz,
        gzip: true,
    })
}

/// The whole content of an input, gunzipped when it is gzip.
pub fn read_all(input: &Input) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(input)?.into_reader().read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn read_head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    reader.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    #[test]
    fn gzip_is_opened_wherever_it_is() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all("ログ line\n".repeat(10_000).as_bytes())
            .expect("compress");
        let input = Input::Memory {
            name: "x.gz".into(),
            bytes: gz.finish().expect("compress").into(),
        };
        let opened = open(&input).expect("opens");
        assert!(opened.gzip);
        assert_eq!(opened.head.len(), HEAD_BYTES);
        let all = read_all(&input).expect("reads");
        assert_eq!(all, "ログ line\n".repeat(10_000).as_bytes());
    }
}
