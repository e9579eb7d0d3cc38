//! Links in a message: from its text (linkify) and its HTML (anchors and
//! forms), with what is suspicious about each.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// Services that hide a link's real target.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "bl.ink",
    "s.id",
    "x.gd",
    "v.gd",
    "qrco.de",
    "urlz.fr",
    "lnkd.in",
    "shorturl.asia",
    "bit.do",
];

/// Free hosting that phishing pages use because anyone can publish there.
const FREE_HOSTING: &[&str] = &[
    "firebaseapp.com",
    "web.app",
    "appspot.com",
    "github.io",
    "herokuapp.com",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "r2.dev",
    "glitch.me",
    "weebly.com",
    "wixsite.com",
    "blogspot.com",
    "000webhostapp.com",
    "ipfs.io",
    "dweb.link",
    "azurewebsites.net",
    "web.core.windows.net",
    "storage.googleapis.com",
    "firebasestorage.googleapis.com",
    "sites.google.com",
    "forms.gle",
    "docs.google.com",
    "onedrive.live.com",
    "1drv.ms",
    "sharepoint.com",
    "dropbox.com",
    "ngrok.io",
    "ngrok-free.app",
    "repl.co",
    "webflow.io",
    "square.site",
    "mystrikingly.com",
    "jimdosite.com",
    "notion.site",
    "typeform.com",
    "surge.sh",
    "translate.goog",
    "amazonaws.com",
];

/// What is suspicious about a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkFinding {
    /// Its host is an IP address.
    IpHost,
    /// A URL shortener.
    Shortener,
    /// Its text shows one host and it leads to another.
    TextMismatch,
    /// Free hosting.
    FreeHosting,
    /// Its host is an internationalised (punycode) name.
    Punycode,
    /// It carries a user name before the host (`https://bank.example@evil`).
    Credentials,
}

/// One link.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    /// The URL.
    pub url: String,
    /// Its host, lower case.
    pub host: String,
    /// The text shown for it (HTML anchors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What is suspicious about it.
    pub findings: Vec<LinkFinding>,
}

static ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<a\s[^>]*?href\s*=\s*["']?([^"'\s>]+)["']?[^>]*>"#).expect("valid")
});
static FORM_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)<form\s[^>]*?action\s*=\s*["']?([^"'\s>]+)"#).expect("valid")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").expect("valid"));

/// The links of a message: every URL in its text and in its HTML (anchors
/// with the text they show, form targets, and URLs written out), each once.
pub fn extract(text: &str, html: &str) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    let mut add = |url: &str, shown: Option<String>| {
        let url = url.trim().replace("&amp;", "&");
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return;
        }
        if let Some(existing) = links.iter_mut().find(|l| l.url == url) {
            if existing.text.is_none() && shown.is_some() {
                *existing = link(&url, shown);
            }
            return;
        }
        if links.len() < 500 {
            links.push(link(&url, shown));
        }
    };
    let mut shown_texts = Vec::new();
    for anchor in ANCHOR.captures_iter(html) {
        let after = &html[anchor.get(0).map_or(0, |m| m.end())..];
        let inner = &after[..anchor_end(after)];
        let shown = TAG.replace_all(inner, "").trim().to_owned();
        shown_texts.push(shown.clone());
        add(&anchor[1], (!shown.is_empty()).then_some(shown));
    }
    for form in FORM_ACTION.captures_iter(html) {
        add(&form[1], None);
    }
    let finder = linkify::LinkFinder::new();
    for found in finder
        .links(text)
        .filter(|l| *l.kind() == linkify::LinkKind::Url)
    {
        add(found.as_str(), None);
    }
    if text.is_empty() {
        let visible = TAG.replace_all(html, " ");
        let written_out = finder
            .links(&visible)
            .filter(|l| *l.kind() == linkify::LinkKind::Url)
            .filter(|l| !shown_texts.iter().any(|t| t == l.as_str()));
        for found in written_out {
            add(found.as_str(), None);
        }
    }
    links
}

/// Where an anchor's content ends: at its `</a>` (in any case), or after
/// at most 2,000 bytes.
fn anchor_end(after: &str) -> usize {
    let limit = after.len().min(2000);
    let window = &after.as_bytes()[..limit];
    memchr::memmem::find_iter(window, b"</")
        .find(|&at| {
            window
                .get(at + 2)
                .is_some_and(|b| b.eq_ignore_ascii_case(&b'a'))
        })
        .unwrap_or_else(|| {
            (0..=limit)
                .rev()
                .find(|&i| after.is_char_boundary(i))
                .unwrap_or(0)
        })
}

/// A link, with what is suspicious about it.
pub fn link(url: &str, text: Option<String>) -> Link {
    let (userinfo, host) = host_of(url);
    let mut findings = Vec::new();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        findings.push(LinkFinding::IpHost);
    }
    if SHORTENERS.contains(&host.as_str()) {
        findings.push(LinkFinding::Shortener);
    }
    if FREE_HOSTING
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        findings.push(LinkFinding::FreeHosting);
    }
    if host.split('.').any(|label| label.starts_with("xn--")) {
        findings.push(LinkFinding::Punycode);
    }
    if userinfo {
        findings.push(LinkFinding::Credentials);
    }
    if let Some(shown) = text.as_deref().and_then(shown_host)
        && registrable(&shown) != registrable(&host)
    {
        findings.push(LinkFinding::TextMismatch);
    }
    Link {
        url: url.to_owned(),
        host,
        text,
        findings,
    }
}

/// A URL's host, lower case, and whether a user name comes before it.
pub fn host_of(url: &str) -> (bool, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((_, h)) => (true, h),
        None => (false, authority),
    };
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or("").to_owned()
    };
    (userinfo, host.trim_end_matches('.').to_ascii_lowercase())
}

/// The host a link's text shows, when the text is a URL or a host name.
fn shown_host(text: &str) -> Option<String> {
    let text = text.trim();
    if text.contains(char::is_whitespace) || !text.contains('.') {
        return None;
    }
    let looks_like_url =
        text.starts_with("http://") || text.starts_with("https://") || text.starts_with("www.");
    if !looks_like_url {
        return None;
    }
    let (_, host) = host_of(
        if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        }
        .as_str(),
    );
    host.contains('.').then_some(host)
}

/// The part of a host name its owner registered: the last two labels, or
/// three under a two-letter country's second level (`example.co.jp`).
pub fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.rsplit('.').collect();
    let second_level = [
        "co", "go", "or", "ne", "ac", "ad", "ed", "gr", "lg", "com", "net", "org", "gov", "edu",
    ];
    let take = if labels.len() >= 3 && labels[0].len() == 2 && second_level.contains(&labels[1]) {
        3
    } else {
        2
    };
    let mut kept: Vec<&str> = labels.into_iter().take(take).collect();
    kept.reverse();
    kept.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_with_other_hosts_in_their_text_are_flagged() {
        let html = r#"<a href="http://203.0.113.9/login">https://www.mybank.example/login</a>
            <a href='https://bit.ly/x'>here</a><form action="https://evil.web.app/post">"#;
        let links = extract("", html);
        assert_eq!(links.len(), 3, "{links:?}");
        assert!(links[0].findings.contains(&LinkFinding::IpHost));
        assert!(links[0].findings.contains(&LinkFinding::TextMismatch));
        assert_eq!(links[1].findings, vec![LinkFinding::Shortener]);
        assert_eq!(links[2].findings, vec![LinkFinding::FreeHosting]);
    }

    #[test]
    fn text_urls_and_registrable_names() {
        let links = extract(
            "see https://www.example.co.jp/a?b=1 and https://user@xn--80ak6aa92e.com/",
            "",
        );
        assert_eq!(links.len(), 2);
        assert!(links[1].findings.contains(&LinkFinding::Credentials));
        assert!(links[1].findings.contains(&LinkFinding::Punycode));
        assert_eq!(registrable("www.example.co.jp"), "example.co.jp");
        assert_eq!(registrable("a.b.example.com"), "example.com");
    }
}
