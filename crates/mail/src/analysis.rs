//! One message analysed: what it says about its sender, its links and its
//! attachments, and the indicators it carries.

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use serde::Serialize;

use crate::attachment::{self, Attachment};
use crate::classify::{self, Class, Reason};
use crate::links::{self, Link};
use crate::sender::{AuthResults, Protected};
use crate::source::{Origin, RawMessage};

/// How messages are judged.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Names and domains that must not be imitated.
    pub protected: Protected,
    /// Verifies DKIM signatures when given (keys from DNS or given
    /// beforehand); without it the results a receiving server recorded are
    /// read.
    pub dkim: Option<std::sync::Arc<crate::dkim::DkimVerifier>>,
}

impl Default for Settings {
    /// The well-known brands phishing imitates ([`Protected::well_known`]).
    fn default() -> Self {
        Settings {
            protected: Protected::well_known(),
            dkim: None,
        }
    }
}

/// What a message says about itself.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Headers {
    /// Message-ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Date, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<jiff::Timestamp>,
    /// Subject.
    pub subject: String,
    /// The From address.
    pub from: String,
    /// The From display name.
    pub from_name: String,
    /// Reply-To, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Return-Path (the envelope sender), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_path: Option<String>,
    /// The hosts and addresses of the Received chain, nearest first.
    pub received: Vec<String>,
    /// Authentication results.
    pub auth: AuthResults,
    /// DKIM signatures verified here (with `Settings::dkim`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<crate::dkim::DkimCheck>,
    /// Whether it came through a discussion list (List-Id, List-Post or
    /// `Precedence: list`); a List-Unsubscribe alone marks bulk mail, not a
    /// list.
    pub mailing_list: bool,
    /// The To and Cc addresses.
    pub to: Vec<String>,
    /// Whether it answers another message (In-Reply-To or References).
    pub in_reply_to: bool,
}

/// An indicator a message carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// `url`, `domain`, `email-addr`, `ipv4-addr`, `ipv6-addr`, `sha256` or
    /// `sha1`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The value.
    pub value: String,
}

/// One message, analysed and classified.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// Where it was read from.
    pub source: Origin,
    /// Its class.
    pub class: Class,
    /// How suspicious it is, 0 to 100.
    pub score: u32,
    /// Why.
    pub reasons: Vec<Reason>,
    /// The indicators it carries (links, their domains, the sender, the
    /// attachments' hashes).
    pub indicators: Vec<Indicator>,
    /// What it says about itself.
    pub headers: Headers,
    /// Its links.
    pub links: Vec<Link>,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
}

/// A message that could not be analysed.
#[derive(Clone, Debug, Serialize, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct Broken {
    /// Where it was read from.
    #[serde(rename = "source")]
    pub origin: Origin,
    /// Why.
    pub reason: String,
}

/// What a message's parts hold, as text.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) text: String,
    pub(crate) html: String,
    /// HTML without a plain-text alternative.
    pub(crate) html_only: bool,
    /// The words of the HTML, without its tags.
    pub(crate) html_text: String,
}

/// Analyses one message.
pub fn analyse(raw: &RawMessage, settings: &Settings) -> Result<Analysis, Broken> {
    let broken = |reason: &str| Broken {
        origin: raw.origin.clone(),
        reason: reason.to_owned(),
    };
    if raw.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(broken("the file is empty"));
    }
    // mail-parser 0.11 has a debug assertion that hostile MIME nesting can
    // reach (found by the mail_analyse fuzz target); release builds skip it,
    // debug builds quarantine the message instead of stopping the run.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MessageParser::default().parse(&raw.bytes)
    }))
    .map_err(|_| broken("the MIME parser failed on this message's structure"))?;
    let message =
        parsed.ok_or_else(|| broken("not an RFC 5322 message: no header could be read"))?;
    if message.headers().is_empty() {
        return Err(broken("not an RFC 5322 message: it has no headers"));
    }
    let mut headers = headers(&message);
    if let Some(verifier) = &settings.dkim {
        headers.dkim = verifier.verify(&raw.bytes);
    }
    let body = body(&message);
    let attachments = attachments(&message, &body);
    let mut links = links::extract(&body.text, &body.html);
    for url in attachments.iter().flat_map(document_links) {
        if !links.iter().any(|l| l.url == *url) {
            links.push(links::link(url, None));
        }
    }
    let verdict = classify::classify(&headers, &body, &links, &attachments, settings);
    let indicators = indicators(&headers, &links, &attachments);
    Ok(Analysis {
        source: raw.origin.clone(),
        class: verdict.class,
        score: verdict.score,
        reasons: verdict.reasons,
        indicators,
        headers,
        links,
        attachments,
    })
}

/// The first address of a header and its display name. A display name
/// with a comma in it (`Message from ADAC, <a@b>`) reads as a name without
/// an address followed by an address: the two are put back together.
fn first_address(value: Option<&mail_parser::Address<'_>>) -> (String, String) {
    let Some(all) = value else {
        return (String::new(), String::new());
    };
    let mut names = Vec::new();
    for addr in all.iter() {
        let name = addr.name().unwrap_or("").trim();
        match addr.address().map(str::trim).filter(|a| a.contains('@')) {
            Some(address) => {
                names.push(name);
                let name = names
                    .iter()
                    .filter(|n| !n.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                return (address.to_ascii_lowercase(), name);
            }
            None => names.push(addr.address().unwrap_or(name).trim()),
        }
    }
    (String::new(), names.join(", "))
}

fn is_discussion_list(message: &Message<'_>) -> bool {
    let precedence = message
        .header_raw("Precedence")
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_default();
    ["List-Id", "List-Post", "Mailing-List", "X-Mailman-Version"]
        .iter()
        .any(|h| message.header(*h).is_some())
        || precedence == "list"
}

fn headers(message: &Message<'_>) -> Headers {
    let (from, from_name) = first_address(message.from());
    let reply_to = first_address(message.reply_to()).0;
    let return_path = match message.return_path() {
        HeaderValue::Text(t) => Some(t.trim().trim_matches(['<', '>']).to_ascii_lowercase()),
        HeaderValue::TextList(list) => list
            .first()
            .map(|t| t.trim().trim_matches(['<', '>']).to_ascii_lowercase()),
        _ => None,
    }
    .filter(|r| !r.is_empty());
    let auth_values: Vec<&str> = message
        .headers_raw()
        .filter(|(name, _)| {
            name.eq_ignore_ascii_case("Authentication-Results")
                || name.eq_ignore_ascii_case("ARC-Authentication-Results")
                || name.eq_ignore_ascii_case("Received-SPF")
        })
        .map(|(name, value)| {
            if name.eq_ignore_ascii_case("Received-SPF") {
                received_spf(value)
            } else {
                value
            }
        })
        .collect();
    let received = message
        .received_all()
        .filter_map(|r| {
            let host = r.from.as_ref().map(|h| h.to_string());
            let ip = r.from_ip.map(|ip| ip.to_string());
            match (host, ip) {
                (Some(h), Some(ip)) => Some(format!("{h} [{ip}]")),
                (h, ip) => h.or(ip),
            }
        })
        .collect();
    Headers {
        message_id: message.message_id().map(str::to_owned),
        date: message
            .date()
            .and_then(|d| jiff::Timestamp::from_second(d.to_timestamp()).ok()),
        subject: message.subject().unwrap_or("").to_owned(),
        from,
        from_name,
        reply_to: (!reply_to.is_empty()).then_some(reply_to),
        return_path,
        received,
        auth: AuthResults::parse(auth_values),
        dkim: Vec::new(),
        mailing_list: is_discussion_list(message),
        to: message
            .to()
            .into_iter()
            .chain(message.cc())
            .flat_map(|a| a.iter())
            .filter_map(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase())
            .collect(),
        in_reply_to: message.header("In-Reply-To").is_some()
            || message.header("References").is_some(),
    }
}

/// `Received-SPF: fail (...)` read as `spf=fail`.
fn received_spf(value: &str) -> &'static str {
    match value
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "pass" => "spf=pass",
        "fail" => "spf=fail",
        "softfail" => "spf=softfail",
        "neutral" => "spf=neutral",
        "permerror" => "spf=permerror",
        _ => "",
    }
}

fn body(message: &Message<'_>) -> Body {
    let mut body = Body::default();
    for i in 0..message.text_body_count() {
        if let Some(text) = message.body_text(i) {
            body.text.push_str(&text);
            body.text.push('\n');
        }
    }
    for part in message.html_bodies().filter(|p| p.is_text_html()) {
        if let Some(html) = part.text_contents() {
            body.html.push_str(html);
            body.html.push('\n');
        }
    }
    let plain = message
        .parts
        .iter()
        .any(|p| p.is_text() && !p.is_text_html());
    body.html_only = !body.html.is_empty() && !plain;
    body.html_text = strip_tags(&body.html);
    if body.text.trim().is_empty() && !body.html.is_empty() {
        body.text.clear();
    }
    body
}

fn attachments(message: &Message<'_>, body: &Body) -> Vec<Attachment> {
    let text = if body.text.is_empty() {
        &body.html
    } else {
        &body.text
    };
    message
        .attachments()
        .take(100)
        .map(|part| {
            let declared = part
                .content_type()
                .map(|t| match t.subtype() {
                    Some(sub) => format!("{}/{sub}", t.ctype()),
                    None => t.ctype().to_owned(),
                })
                .unwrap_or_default()
                .to_ascii_lowercase();
            let bytes: &[u8] = match part.message() {
                Some(inner) => inner.raw_message(),
                None => part.contents(),
            };
            attachment::analyse(part.attachment_name(), &declared, bytes, text)
        })
        .collect()
}

/// The links an attached document asks to click.
fn document_links(attachment: &Attachment) -> impl Iterator<Item = &String> {
    attachment.findings.iter().flat_map(|f| match f {
        attachment::Finding::DocumentLink { urls } => urls.as_slice(),
        _ => &[],
    })
}

fn indicators(headers: &Headers, links: &[Link], attachments: &[Attachment]) -> Vec<Indicator> {
    let mut out: Vec<Indicator> = Vec::new();
    let mut add = |kind: &'static str, value: &str| {
        if !value.is_empty() && !out.iter().any(|i| i.kind == kind && i.value == value) {
            out.push(Indicator {
                kind,
                value: value.to_owned(),
            });
        }
    };
    if !headers.from.is_empty() {
        add("email-addr", &headers.from);
    }
    for link in links {
        add("url", &link.url);
        if link.host.parse::<std::net::Ipv4Addr>().is_ok() {
            add("ipv4-addr", &link.host);
        } else if link.host.starts_with('[') {
            add("ipv6-addr", link.host.trim_matches(['[', ']']));
        } else {
            add("domain", &link.host);
        }
    }
    for a in attachments {
        add("sha256", &a.sha256);
        add("sha1", &a.sha1);
    }
    out
}

/// HTML without its tags, styles and scripts, for reading its words.
pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
