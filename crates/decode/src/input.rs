//! Recognising an opened input's format from its content, and cutting it
//! into records. Walking folders and opening gzip is `gsoc-input`'s.

use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use evtx::{EvtxParser, ParserSettings};
use gsoc_event::Format;
use gsoc_input::{HEAD_BYTES, Input, Opened, open};
use serde_json::value::RawValue;

use crate::Payload;
use crate::decoder::Decoder;
use crate::json::{Dotted, is_complete_json, parse_object};
use crate::zeek::ZeekHeader;
use crate::{
    Batch, Chunk, Frame, Options, Problem, Quarantined, cef, eve, syslog, web, winjson, zeek,
};

const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// Reads one input and hands its records to `sink` in batches, with a
/// [`Chunk::Start`] first and a [`Chunk::End`] last. File-level problems
/// (unreadable, not a log) come as one [`Chunk::Problem`]. Returns false
/// when `sink` asked to stop.
pub fn read_input(input: &Input, options: &Options, sink: &mut dyn FnMut(Chunk) -> bool) -> bool {
    let file: Arc<str> = Arc::from(input.name());
    match read(input, &file, options, sink) {
        Ok(Flow::Continue) => true,
        Ok(Flow::Stop) => false,
        Err(message) => sink(Chunk::Problem(Problem { file, message })),
    }
}

enum Flow {
    Continue,
    Stop,
}

fn read(
    input: &Input,
    file: &Arc<str>,
    options: &Options,
    sink: &mut dyn FnMut(Chunk) -> bool,
) -> Result<Flow, String> {
    let opened = open(input).map_err(|e| format!("cannot read: {e}"))?;
    if opened.head.is_empty() {
        return Ok(Flow::Continue);
    }
    let format = match options.format {
        Some(f) => f,
        None => sniff(&opened.head)?,
    };
    if !sink(Chunk::Start {
        file: file.clone(),
        format,
    }) {
        return Ok(Flow::Stop);
    }
    let mut framer = Framer::new(
        file.clone(),
        Decoder::for_format(format, file),
        options.batch_size,
        sink,
    );
    match format {
        Format::Evtx => read_evtx(input, opened, &mut framer)?,
        Format::WinJson | Format::Eve | Format::ZeekJson | Format::Json => {
            read_json(opened, &mut framer)?
        }
        _ => read_lines(opened, &mut framer)?,
    }
    Ok(framer.finish())
}

/// Recognises a format from the first bytes of an input.
pub(crate) fn sniff(head: &[u8]) -> Result<Format, String> {
    if head.starts_with(EVTX_MAGIC) {
        return Ok(Format::Evtx);
    }
    if looks_binary(head) {
        return Err("not a log: binary content that is not an EVTX file (use --input-format to force a format)".into());
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') || text.starts_with('[') {
        return Ok(sniff_json(text));
    }
    sniff_lines(text, head.len() >= HEAD_BYTES)
}

fn looks_binary(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(8192)];
    let nul = sample.iter().filter(|b| **b == 0).count();
    let invalid = String::from_utf8_lossy(sample).matches('\u{fffd}').count();
    nul > 0 || invalid * 20 > sample.len().max(1)
}

fn sniff_json(text: &str) -> Format {
    let body = text.strip_prefix('[').unwrap_or(text).trim_start();
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<&RawValue>();
    let Some(Ok(first)) = stream.next() else {
        return Format::Json;
    };
    let Ok(fields) = parse_object(first.get(), &Dotted) else {
        return Format::Json;
    };
    if winjson::looks_like(&fields) {
        Format::WinJson
    } else if eve::looks_like(&fields) {
        Format::Eve
    } else if zeek::looks_like(&fields) {
        Format::ZeekJson
    } else {
        Format::Json
    }
}

fn sniff_lines(text: &str, truncated: bool) -> Result<Format, String> {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    if truncated && lines.len() > 1 {
        lines.pop();
    }
    let first = lines.first().copied().unwrap_or_default();
    if first.starts_with("#separator") || first.starts_with("#fields") {
        return Ok(Format::ZeekTsv);
    }
    let sample = &lines[..lines.len().min(20)];
    let candidates: [(Format, LineTest); 3] = [
        (Format::Cef, cef::looks_like),
        (Format::AccessLog, web::looks_like),
        (Format::Syslog, syslog::looks_like),
    ];
    let best = candidates
        .iter()
        .map(|(format, test)| (sample.iter().filter(|l| test(l)).count(), *format))
        .max_by_key(|(count, _)| *count);
    match best {
        // A third is enough: real files mix in continuation and junk lines,
        // which are then quarantined one by one.
        Some((count, format)) if count * 3 >= sample.len() && count > 0 => Ok(format),
        _ => Err(format!(
            "not a recognised log format (first line: '{}'); use --input-format to force one",
            first.chars().take(80).collect::<String>()
        )),
    }
}

/// A test of whether a line is in some format.
type LineTest = fn(&str) -> bool;

/// Collects frames into batches for one decoder.
struct Framer<'s> {
    file: Arc<str>,
    decoder: Arc<Decoder>,
    frames: Vec<Frame>,
    batch_size: usize,
    sink: &'s mut dyn FnMut(Chunk) -> bool,
    records: u64,
    stopped: bool,
}

impl<'s> Framer<'s> {
    fn new(
        file: Arc<str>,
        decoder: Decoder,
        batch_size: usize,
        sink: &'s mut dyn FnMut(Chunk) -> bool,
    ) -> Self {
        Framer {
            file,
            decoder: Arc::new(decoder),
            frames: Vec::with_capacity(batch_size),
            batch_size: batch_size.max(1),
            sink,
            records: 0,
            stopped: false,
        }
    }

    /// Adds a record; returns false when the sink wants no more.
    fn push(&mut self, record: u64, text: String) -> bool {
        self.records += 1;
        self.frames.push(Frame { record, text });
        if self.frames.len() >= self.batch_size {
            self.flush();
        }
        !self.stopped
    }

    fn flush(&mut self) {
        if self.frames.is_empty() || self.stopped {
            return;
        }
        let batch = Batch {
            file: self.file.clone(),
            decoder: self.decoder.clone(),
            payload: Payload::Frames(std::mem::replace(
                &mut self.frames,
                Vec::with_capacity(self.batch_size),
            )),
        };
        self.stopped = !(self.sink)(Chunk::Batch(batch));
    }

    /// Hands an EVTX chunk on as a batch of its own.
    fn push_evtx_chunk(
        &mut self,
        chunk: evtx::EvtxChunkData,
        settings: &Arc<ParserSettings>,
    ) -> bool {
        self.flush();
        if self.stopped {
            return false;
        }
        let batch = Batch {
            file: self.file.clone(),
            decoder: self.decoder.clone(),
            payload: Payload::EvtxChunk(Box::new(chunk), settings.clone()),
        };
        self.records += batch.len() as u64;
        self.stopped = !(self.sink)(Chunk::Batch(batch));
        !self.stopped
    }

    /// Reports a record that could not even be framed.
    fn quarantine(&mut self, record: u64, reason: String, original: String) -> bool {
        self.records += 1;
        self.flush();
        let q = Quarantined {
            file: self.file.clone(),
            record,
            format: self.decoder.format(),
            reason,
            original,
        };
        self.stopped = self.stopped || !(self.sink)(Chunk::Quarantined(q));
        !self.stopped
    }

    fn set_decoder(&mut self, decoder: Decoder) {
        self.flush();
        self.decoder = Arc::new(decoder);
    }

    fn finish(mut self) -> Flow {
        self.flush();
        if self.stopped {
            return Flow::Stop;
        }
        let end = Chunk::End {
            file: self.file.clone(),
            records: self.records,
        };
        if (self.sink)(end) {
            Flow::Continue
        } else {
            Flow::Stop
        }
    }
}

fn read_lines(opened: Opened, framer: &mut Framer<'_>) -> Result<(), String> {
    let zeek = matches!(*framer.decoder, Decoder::ZeekTsv(_));
    let mut header = ZeekHeader::default();
    let mut reader = BufReader::with_capacity(1 << 16, opened.into_reader());
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("read failed after line {line_no}: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&buf),
        };
        if line.trim().is_empty() {
            continue;
        }
        if zeek && line.starts_with('#') {
            let known = header.apply(&line);
            if known
                && ["#fields", "#types", "#path"]
                    .iter()
                    .any(|d| line.starts_with(d))
            {
                framer.set_decoder(Decoder::ZeekTsv(header.clone()));
            }
            continue;
        }
        if zeek && !header.is_ready() {
            if !framer.quarantine(
                line_no,
                "Zeek data line before any #fields header".into(),
                line.into_owned(),
            ) {
                return Ok(());
            }
            continue;
        }
        if !framer.push(line_no, line.into_owned()) {
            return Ok(());
        }
    }
}

fn read_json(opened: Opened, framer: &mut Framer<'_>) -> Result<(), String> {
    let head = String::from_utf8_lossy(&opened.head);
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        return read_json_array(opened, framer);
    }
    let first_line = trimmed.lines().next().unwrap_or_default();
    if is_complete_json(first_line) {
        return read_lines(opened, framer);
    }
    read_json_documents(opened, framer)
}

fn read_whole(opened: Opened) -> Result<String, String> {
    let mut bytes = Vec::new();
    opened
        .into_reader()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read failed: {e}"))?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn read_json_array(opened: Opened, framer: &mut Framer<'_>) -> Result<(), String> {
    let text = read_whole(opened)?;
    let items: Vec<&RawValue> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("broken JSON array ({e}); no record of this file was read"))?;
    for (i, item) in items.iter().enumerate() {
        if !framer.push(i as u64 + 1, item.get().to_owned()) {
            break;
        }
    }
    Ok(())
}

/// Several JSON documents one after another (evtx_dump output). A syntax
/// error loses the boundary between documents, so the rest of the file is
/// reported as one quarantined record.
fn read_json_documents(opened: Opened, framer: &mut Framer<'_>) -> Result<(), String> {
    let text = read_whole(opened)?;
    let text = text.trim_start_matches('\u{feff}');
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let mut number = 0;
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => return Ok(()),
            Some(Ok(doc)) => {
                number += 1;
                if !framer.push(number, doc.get().to_owned()) {
                    return Ok(());
                }
            }
            Some(Err(e)) => {
                let rest = text[offset..].trim();
                let reason = format!(
                    "JSON document {} is broken ({e}); the rest of the file was skipped",
                    number + 1
                );
                framer.quarantine(number + 1, reason, rest.chars().take(4096).collect());
                return Ok(());
            }
        }
    }
}

fn read_evtx(input: &Input, opened: Opened, framer: &mut Framer<'_>) -> Result<(), String> {
    let settings = Arc::new(
        ParserSettings::new()
            .separate_json_attributes(false)
            .indent(false),
    );
    let invalid = |e: evtx::err::EvtxError| format!("not a valid EVTX file: {e}");
    match input {
        Input::File(path) if !opened.gzip => {
            drop(opened);
            let parser = EvtxParser::from_path(path as &Path).map_err(invalid)?;
            send_evtx_chunks(parser, &settings, framer);
        }
        _ => {
            let mut bytes = Vec::new();
            opened
                .into_reader()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("read failed: {e}"))?;
            let parser = EvtxParser::from_buffer(bytes).map_err(invalid)?;
            send_evtx_chunks(parser, &settings, framer);
        }
    }
    Ok(())
}

/// Hands each 64 KiB chunk of an EVTX file to the workers unparsed.
fn send_evtx_chunks<T: Read + Seek>(
    mut parser: EvtxParser<T>,
    settings: &Arc<ParserSettings>,
    framer: &mut Framer<'_>,
) {
    for (number, chunk) in parser.chunks().enumerate() {
        let keep_going = match chunk {
            Ok(chunk) => framer.push_evtx_chunk(chunk, settings),
            Err(e) => framer.quarantine(
                number as u64 + 1,
                format!("EVTX chunk {} could not be read: {e}", number + 1),
                String::new(),
            ),
        };
        if !keep_going {
            break;
        }
    }
}

/// Parses one EVTX chunk into records rendered as JSON (evtx_dump's layout);
/// a record that does not parse becomes a quarantined record.
pub(crate) fn evtx_frames(
    mut chunk: evtx::EvtxChunkData,
    settings: Arc<ParserSettings>,
    file: &Arc<str>,
) -> Vec<Result<Frame, Quarantined>> {
    let quarantined = |record: u64, reason: String| Quarantined {
        file: file.clone(),
        record,
        format: Format::Evtx,
        reason,
        original: String::new(),
    };
    let first = chunk.header.first_event_record_number;
    let mut parsed = match chunk.parse(settings) {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![Err(quarantined(
                first,
                format!("EVTX chunk could not be parsed: {e}"),
            ))];
        }
    };
    parsed
        .iter()
        .enumerate()
        .map(|(i, record)| match record.and_then(|r| r.into_json()) {
            Ok(r) => Ok(Frame {
                record: r.event_record_id,
                text: r.data,
            }),
            Err(e) => Err(quarantined(
                first + i as u64,
                format!("EVTX record could not be parsed: {e}"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"ElfFile\0rest"), Ok(Format::Evtx));
        assert_eq!(
            sniff(br#"{"event_type":"alert","src_ip":"1.2.3.4","timestamp":"x"}"#),
            Ok(Format::Eve)
        );
        assert_eq!(
            sniff(br#"[{"event_type":"dns","flow_id":1}]"#),
            Ok(Format::Eve)
        );
        assert_eq!(sniff(br#"{"_path":"dns","ts":1.0}"#), Ok(Format::ZeekJson));
        assert_eq!(
            sniff(br#"{"EventID":1,"Channel":"x"}"#),
            Ok(Format::WinJson)
        );
        assert_eq!(
            sniff(b"{\n  \"Event\": {\n    \"System\": {\"EventID\": 1}\n  }\n}\n"),
            Ok(Format::WinJson)
        );
        assert_eq!(sniff(br#"{"user":"x"}"#), Ok(Format::Json));
        assert_eq!(
            sniff(b"#separator \\x09\n#fields\tts\n"),
            Ok(Format::ZeekTsv)
        );
        assert_eq!(
            sniff(b"<34>Oct 11 22:14:15 host su: failed\n"),
            Ok(Format::Syslog)
        );
        assert_eq!(sniff(b"CEF:0|a|b|c|d|e|1|src=1.2.3.4\n"), Ok(Format::Cef));
        assert_eq!(
            sniff(b"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1\n"),
            Ok(Format::AccessLog)
        );
        assert!(sniff(b"\x00\x01\x02binary").is_err());
        assert!(
            sniff(b"hello\nworld\n")
                .expect_err("prose")
                .contains("not a recognised log format")
        );
    }
}
