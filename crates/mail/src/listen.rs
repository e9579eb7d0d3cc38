//! An SMTP and LMTP listener to which a mail gateway sends a copy of every
//! suspicious message.
//!
//! Written by hand: receiving (not relaying) is a small part of SMTP — the
//! greeting, EHLO/LHLO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT — and the Rust SMTP server crates are either unmaintained or full
//! mail servers. Each connection gets a thread; a message is handed over
//! only when its DATA is complete, so a dropped connection loses nothing
//! that was acknowledged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// The largest message accepted (50 MB).
pub const MAX_MESSAGE: usize = 50 << 20;

/// The longest command line accepted (RFC 5321 allows 512 octets).
const MAX_LINE: u64 = 4096;

/// Who sent a message and to whom, as the client said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The client's EHLO/LHLO name.
    pub helo: String,
    /// The client's address.
    pub peer: String,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, each.
    pub to: Vec<String>,
}

/// What to do with each message received: return an error text to refuse
/// it (the client is told to try again later).
pub type Handler = dyn Fn(&Envelope, &[u8]) -> Result<(), String> + Send + Sync;

/// Serves connections until the listener fails; `lmtp` speaks LMTP (LHLO,
/// one reply per recipient) instead of SMTP.
pub fn serve(listener: TcpListener, lmtp: bool, handler: Arc<Handler>) -> std::io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        let handler = Arc::clone(&handler);
        std::thread::spawn(move || {
            let _ = Session::new(stream, lmtp, handler).and_then(Session::run);
        });
    }
    Ok(())
}

struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    lmtp: bool,
    handler: Arc<Handler>,
    envelope: Envelope,
    greeted: bool,
    mail: bool,
}

impl Session {
    fn new(stream: TcpStream, lmtp: bool, handler: Arc<Handler>) -> std::io::Result<Session> {
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        Ok(Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            lmtp,
            handler,
            envelope: Envelope {
                peer,
                ..Envelope::default()
            },
            greeted: false,
            mail: false,
        })
    }

    fn reply(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(text.as_bytes())?;
        self.writer.write_all(b"\r\n")
    }

    fn run(mut self) -> std::io::Result<()> {
        let protocol = if self.lmtp { "LMTP" } else { "ESMTP" };
        self.reply(&format!("220 gsoc {protocol} ready"))?;
        loop {
            let mut line = Vec::new();
            let read = (&mut self.reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                return Ok(());
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
            if !self.command(&verb.to_ascii_uppercase(), rest.trim())? {
                return Ok(());
            }
        }
    }

    /// Answers one command; returns false when the session ends.
    fn command(&mut self, verb: &str, argument: &str) -> std::io::Result<bool> {
        match verb {
            "EHLO" | "HELO" if !self.lmtp => self.hello(argument, verb == "EHLO")?,
            "LHLO" if self.lmtp => self.hello(argument, true)?,
            "MAIL" if !self.greeted => self.reply("503 5.5.1 say hello first")?,
            "MAIL" => {
                self.envelope.from = address(argument, "FROM:");
                self.envelope.to.clear();
                self.mail = true;
                self.reply("250 2.1.0 OK")?
            }
            "RCPT" if !self.mail => self.reply("503 5.5.1 MAIL first")?,
            "RCPT" => {
                self.envelope.to.push(address(argument, "TO:"));
                self.reply("250 2.1.5 OK")?
            }
            "DATA" if self.envelope.to.is_empty() => self.reply("503 5.5.1 RCPT first")?,
            "DATA" => self.data()?,
            "RSET" => {
                self.reset();
                self.reply("250 2.0.0 OK")?
            }
            "NOOP" => self.reply("250 2.0.0 OK")?,
            "VRFY" => self.reply("252 2.5.0 cannot verify")?,
            "QUIT" => {
                self.reply("221 2.0.0 bye")?;
                return Ok(false);
            }
            _ => self.reply("502 5.5.2 command not recognised")?,
        }
        Ok(true)
    }

    fn hello(&mut self, name: &str, extended: bool) -> std::io::Result<()> {
        self.envelope.helo = name.to_owned();
        self.greeted = true;
        self.reset();
        if extended {
            self.reply(&format!(
                "250-gsoc\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE {MAX_MESSAGE}"
            ))
        } else {
            self.reply("250 gsoc")
        }
    }

    fn reset(&mut self) {
        self.mail = false;
        self.envelope.from.clear();
        self.envelope.to.clear();
    }

    fn data(&mut self) -> std::io::Result<()> {
        self.reply("354 end with <CRLF>.<CRLF>")?;
        let mut message = Vec::new();
        let mut too_big = false;
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
            too_big |= message.len() + unstuffed.len() > MAX_MESSAGE;
            if !too_big {
                message.extend_from_slice(unstuffed);
            }
        }
        let outcome = if too_big {
            "552 5.3.4 message too big".to_owned()
        } else {
            match (self.handler)(&self.envelope, &message) {
                Ok(()) => "250 2.0.0 OK: received for analysis".to_owned(),
                Err(why) => format!("451 4.3.0 {why}"),
            }
        };
        let replies = if self.lmtp { self.envelope.to.len() } else { 1 };
        for _ in 0..replies {
            self.reply(&outcome)?;
        }
        self.reset();
        Ok(())
    }
}

/// The address in `FROM:<a@b> SIZE=…` or `TO:<a@b>`.
fn address(argument: &str, prefix: &str) -> String {
    let rest = argument
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map_or(argument, |_| &argument[prefix.len()..]);
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(open), Some(close)) if open < close => rest[open + 1..close].to_owned(),
        _ => rest.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    type Received = Vec<(Envelope, Vec<u8>)>;

    fn converse(lmtp: bool, script: &[&str]) -> (Vec<String>, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Received>> = Arc::default();
        let sink = Arc::clone(&received);
        let handler: Arc<Handler> = Arc::new(move |e: &Envelope, m: &[u8]| {
            sink.lock().unwrap().push((e.clone(), m.to_vec()));
            Ok(())
        });
        std::thread::spawn(move || serve(listener, lmtp, handler));
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for line in script {
            stream.write_all(line.as_bytes()).unwrap();
            stream.write_all(b"\r\n").unwrap();
        }
        let mut replies = String::new();
        stream.read_to_string(&mut replies).unwrap();
        let replies = replies.lines().map(str::to_owned).collect();
        let received = received.lock().unwrap().clone();
        (replies, received)
    }

    #[test]
    fn smtp_receives_a_message_with_dots_unstuffed() {
        let (replies, received) = converse(
            false,
            &[
                "EHLO gw.example",
                "MAIL FROM:<a@x.example> SIZE=100",
                "RCPT TO:<soc@y.example>",
                "DATA",
                "Subject: hi",
                "",
                "..leading dot",
                ".",
                "QUIT",
            ],
        );
        assert!(replies[0].starts_with("220 "), "{replies:?}");
        assert!(
            replies
                .iter()
                .any(|r| r.starts_with("250 2.0.0 OK: received")),
            "{replies:?}"
        );
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].0.from, "a@x.example");
        assert_eq!(received[0].0.to, vec!["soc@y.example"]);
        assert_eq!(received[0].1, b"Subject: hi\r\n\r\n.leading dot\r\n");
    }

    #[test]
    fn lmtp_answers_once_per_recipient_and_commands_need_their_order() {
        let (replies, received) = converse(
            true,
            &[
                "RCPT TO:<x@y>",
                "LHLO gw",
                "MAIL FROM:<>",
                "RCPT TO:<a@y>",
                "RCPT TO:<b@y>",
                "DATA",
                "Subject: x",
                "",
                "body",
                ".",
                "QUIT",
            ],
        );
        assert!(replies[1].starts_with("503"), "{replies:?}");
        let delivered = replies
            .iter()
            .filter(|r| r.starts_with("250 2.0.0 OK: received"))
            .count();
        assert_eq!(delivered, 2, "{replies:?}");
        assert_eq!(received.len(), 1);
    }
}
