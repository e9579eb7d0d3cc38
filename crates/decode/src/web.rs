//! Web server access logs: NCSA common and combined, Apache and nginx (with
//! an optional leading virtual host). Fields use the names of Sigma's
//! `webserver` taxonomy. As SigmaHQ's web rules expect, `cs-uri-query` holds
//! the whole request target (path and query); `cs-uri-stem` holds the path.

use std::sync::{Arc, LazyLock};

use gsoc_event::{Event, Fields, Format, LogSource, Normalization, Value};
use regex::Regex;

use crate::time;

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?P<prefix>(?:\S+ ){2,5})\[(?P<time>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<bytes>\d+|-)(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?"#,
    )
    .expect("the access-log pattern is valid")
});

/// Decodes one access-log line.
pub(crate) fn decode(line: &str, file: &Arc<str>, record: u64) -> Result<Event, String> {
    let caps = LINE
        .captures(line)
        .ok_or("not an access-log line (client ident user [time] \"request\" status bytes)")?;
    let get = |name| caps.name(name).map(|m| m.as_str()).filter(|s| *s != "-");
    let mut fields = Fields::new();
    let mut push = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            fields.push(name, Value::from(unescape(v)));
        }
    };
    let prefix = Prefix::split(caps.name("prefix").map_or("", |m| m.as_str()));
    push("cs-host", prefix.vhost);
    push("c-ip", Some(prefix.client));
    push("cs-username", Some(prefix.user).filter(|u| *u != "-"));
    push("date", get("time"));
    let request = caps.name("request").map_or("", |m| m.as_str());
    if let Some((method, target, version)) = split_request(request) {
        push("cs-method", Some(method));
        push("cs-uri", Some(target));
        push("cs-uri-query", Some(target));
        push(
            "cs-uri-stem",
            Some(target.split('?').next().unwrap_or(target)),
        );
        push("cs-version", version);
    } else {
        push("cs-uri", Some(request).filter(|r| !r.is_empty()));
    }
    push("cs-referer", get("referer"));
    push("cs-user-agent", get("agent"));
    push("c-useragent", get("agent"));
    if let Some(status) = get("status").and_then(|s| s.parse::<i64>().ok()) {
        fields.push("sc-status", Value::Int(status));
    }
    if let Some(bytes) = get("bytes").and_then(|s| s.parse::<i64>().ok()) {
        fields.push("sc-bytes", Value::Int(bytes));
    }
    let mut event = Event::new(Format::AccessLog, file.clone(), record, String::new());
    event.time = get("time").and_then(time::parse_clf);
    event.logsource = LogSource::default().with_category("webserver");
    event.normalization = NORMALIZATION;
    event.fields = fields;
    Ok(event)
}

/// The tokens before `[time]`: `client ident user` (common), `client user`
/// (some nginx setups), `vhost client ident user` (Apache vhost_combined),
/// or `vhost client ident request-id user` (BunkerWeb).
struct Prefix<'a> {
    vhost: Option<&'a str>,
    client: &'a str,
    user: &'a str,
}

impl<'a> Prefix<'a> {
    fn split(prefix: &'a str) -> Prefix<'a> {
        let tokens: Vec<&str> = prefix.split_whitespace().collect();
        let (vhost, rest) = match tokens.split_first() {
            Some((first, rest)) if tokens.len() >= 4 => (Some(*first), rest),
            _ => (None, &tokens[..]),
        };
        Prefix {
            vhost,
            client: rest.first().copied().unwrap_or("-"),
            user: rest
                .last()
                .copied()
                .filter(|_| rest.len() > 1)
                .unwrap_or("-"),
        }
    }
}

/// `METHOD target [HTTP/x]`; the target may contain spaces (scanners send
/// them unencoded).
fn split_request(request: &str) -> Option<(&str, &str, Option<&str>)> {
    let (method, rest) = request.split_once(' ')?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    match rest.rsplit_once(' ') {
        Some((target, version)) if version.starts_with("HTTP/") => {
            Some((method, target, Some(version)))
        }
        _ => Some((method, rest, None)),
    }
}

fn unescape(value: &str) -> String {
    value.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// OCSF-style names for this format's fields.
const NORMALIZATION: Normalization = &[
    ("src_endpoint.ip", &["c-ip"]),
    ("http_request.http_method", &["cs-method"]),
    ("http_request.url.path", &["cs-uri"]),
    ("http_request.url.hostname", &["cs-host"]),
    ("http_request.user_agent", &["cs-user-agent"]),
    ("http_request.referrer", &["cs-referer"]),
    ("http_response.code", &["sc-status"]),
    ("actor.user.name", &["cs-username"]),
];

/// Whether a line looks like an access-log line.
pub(crate) fn looks_like(line: &str) -> bool {
    LINE.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_vhost() {
        let line = r#"192.168.1.5 - bob [10/Oct/2000:13:55:36 -0700] "GET /a/b.php?id=1' OR 1=1 HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0 \"x\"""#;
        let e = decode(line, &Arc::from("access.log"), 4).expect("valid");
        assert_eq!(e.fields.get_str("c-ip"), Some("192.168.1.5"));
        assert_eq!(e.fields.get_str("cs-method"), Some("GET"));
        assert_eq!(e.fields.get_str("cs-uri-stem"), Some("/a/b.php"));
        assert_eq!(
            e.fields.get_str("cs-uri-query"),
            Some("/a/b.php?id=1' OR 1=1")
        );
        assert_eq!(e.fields.get("sc-status"), Some(&Value::Int(200)));
        assert_eq!(e.fields.get_str("cs-user-agent"), Some("Mozilla/5.0 \"x\""));
        assert_eq!(e.logsource.category.as_deref(), Some("webserver"));
        assert_eq!(e.time, "2000-10-10T20:55:36Z".parse().ok());
        let vhost = r#"example.com:80 10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "POST /login HTTP/1.1" 403 0 "-" "curl/8""#;
        let e = decode(vhost, &Arc::from("access.log"), 5).expect("valid");
        assert_eq!(e.fields.get_str("cs-host"), Some("example.com:80"));
        assert_eq!(e.fields.get_str("c-ip"), Some("10.0.0.1"));
        assert!(e.fields.get_str("cs-referer").is_none());
        let bunker = r#"example.com 127.0.0.1 - req001 - [30/Sep/2021:09:58:05 +0200] "GET /.bash_history HTTP/1.1" 404 162 "-" "curl/7.68.0""#;
        let e = decode(bunker, &Arc::from("access.log"), 6).expect("valid");
        assert_eq!(e.fields.get_str("cs-host"), Some("example.com"));
        assert_eq!(e.fields.get_str("c-ip"), Some("127.0.0.1"));
        assert_eq!(e.fields.get_str("cs-uri-stem"), Some("/.bash_history"));
        let short = r#"192.168.1.1 - [08/Jun/2020:08:04:43 +0000] "GET /api/test HTTP/1.1" 200 100 "-" "curl/7.68.0""#;
        let e = decode(short, &Arc::from("access.log"), 7).expect("valid");
        assert_eq!(e.fields.get_str("c-ip"), Some("192.168.1.1"));
        assert!(e.fields.get_str("cs-username").is_none());
        assert!(decode("hello world", &Arc::from("x"), 1).is_err());
    }
}
