//! One spelling for each value, so that an indicator and a log field that
//! mean the same thing compare equal; and the type of a bare value in a
//! list.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{Kind, Observable, Role, Term};

/// The normal form of a value of a kind: addresses in canonical form,
/// networks truncated to their prefix, names and hashes in lower case, URLs
/// as [`url_key`] gives them. Says why when the value is not of the kind.
pub fn value(kind: Kind, text: &str) -> Result<String, String> {
    let text = text.trim();
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => match text.parse::<IpAddr>() {
            Ok(ip @ IpAddr::V4(_)) if kind == Kind::Ipv4 => Ok(ip.to_string()),
            Ok(ip @ IpAddr::V6(_)) if kind == Kind::Ipv6 => Ok(ip.to_string()),
            _ => Err(format!("'{text}' is not an {kind} address")),
        },
        Kind::Cidr => text
            .parse::<IpNet>()
            .map(|net| net.trunc().to_string())
            .map_err(|_| format!("'{text}' is not a network in CIDR notation")),
        Kind::Domain => domain(text).ok_or_else(|| format!("'{text}' is not a domain name")),
        Kind::Url => url_key(text).ok_or_else(|| format!("'{text}' is not a URL")),
        Kind::Email => email(text).ok_or_else(|| format!("'{text}' is not an e-mail address")),
        Kind::Md5 | Kind::Imphash | Kind::Ja3 => hex(text, 32, kind),
        Kind::Sha1 => hex(text, 40, kind),
        Kind::Sha256 => hex(text, 64, kind),
        Kind::Sha512 => hex(text, 128, kind),
        Kind::UserAgent | Kind::FileName if !text.is_empty() => Ok(text.to_owned()),
        Kind::UserAgent | Kind::FileName => Err(format!("an empty {kind}")),
        Kind::Port => text
            .parse::<u16>()
            .map(|p| p.to_string())
            .map_err(|_| format!("'{text}' is not a port number")),
    }
}

fn hex(text: &str, len: usize, kind: Kind) -> Result<String, String> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!("'{text}' is not an {kind} hash ({len} hex digits)"))
    }
}

/// A domain name in lower case, without a trailing dot or a leading `*.`.
pub fn domain(text: &str) -> Option<String> {
    let name = text.trim().trim_end_matches('.');
    let name = name
        .strip_prefix("*.")
        .or_else(|| name.strip_prefix('.'))
        .unwrap_or(name);
    looks_like_domain(name).then(|| name.to_ascii_lowercase())
}

/// Whether a text has the shape of a DNS name with at least two labels and
/// a top-level label that is not a number.
pub fn looks_like_domain(text: &str) -> bool {
    if text.len() > 253 || !text.contains('.') {
        return false;
    }
    let labels_ok = text.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80)
    });
    let top = text.rsplit('.').next().unwrap_or_default();
    labels_ok && !top.bytes().all(|b| b.is_ascii_digit())
}

/// An e-mail address in lower case, without angle brackets.
pub fn email(text: &str) -> Option<String> {
    let address = text
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase();
    let (local, host) = address.rsplit_once('@')?;
    (!local.is_empty() && !local.contains(char::is_whitespace) && looks_like_domain(host))
        .then_some(address)
}

/// The form URLs are compared in: no scheme, the host in lower case, no
/// default port, no fragment, and `/` for an empty path. So
/// `HTTP://Evil.Example:80/a?b#c` becomes `evil.example/a?b`.
pub fn url_key(text: &str) -> Option<String> {
    let text = text.trim();
    let rest = match text.find("://") {
        Some(i)
            if text[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+') =>
        {
            &text[i + 3..]
        }
        _ => text,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host);
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let path = if path.is_empty() { "/" } else { path };
    Some(format!("{}{path}", host.to_ascii_lowercase()))
}

/// What a bare value in a list is, with its normal form, and the terms to
/// match when it is more than one observable (`192.0.2.1:8080` is an
/// address and a destination port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inferred {
    /// The kind of the main value.
    pub kind: Kind,
    /// The main value, normalised.
    pub value: String,
    /// The terms, when more than `kind = value`.
    pub terms: Vec<Term>,
}

/// Infers the type of a value from a list (IP address, `IP:port`, CIDR
/// network, URL, domain, e-mail address or hash). A URL with nothing after
/// its host is the host. Says why when it is none of those.
pub fn infer(text: &str) -> Result<Inferred, String> {
    let text = text.trim();
    let simple = |kind: Kind, value: String| Inferred {
        kind,
        value,
        terms: Vec::new(),
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        let kind = if ip.is_ipv4() { Kind::Ipv4 } else { Kind::Ipv6 };
        return Ok(simple(kind, ip.to_string()));
    }
    if let Some(found) = address_with_port(text) {
        return Ok(found);
    }
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(simple(Kind::Cidr, net.trunc().to_string()));
    }
    if let Some(kind) = hash_kind_by_length(text) {
        return Ok(simple(kind, text.to_ascii_lowercase()));
    }
    if text.contains('@') && !text.contains('/') {
        return email(text)
            .map(|e| simple(Kind::Email, e))
            .ok_or_else(|| format!("'{text}' is not an e-mail address"));
    }
    if text.contains('/') || text.contains("://") {
        return url_or_host(text);
    }
    domain(text)
        .map(|d| simple(Kind::Domain, d))
        .ok_or_else(|| {
            format!("'{text}' is not an IP address, network, domain, URL, e-mail address or hash")
        })
}

fn hash_kind_by_length(text: &str) -> Option<Kind> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match text.len() {
        32 => Some(Kind::Md5),
        40 => Some(Kind::Sha1),
        64 => Some(Kind::Sha256),
        128 => Some(Kind::Sha512),
        _ => None,
    }
}

fn address_with_port(text: &str) -> Option<Inferred> {
    let (host, port) = text.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok()?;
    let port = port.parse::<u16>().ok()?;
    let kind = if ip.is_ipv4() { Kind::Ipv4 } else { Kind::Ipv6 };
    let value = ip.to_string();
    Some(Inferred {
        kind,
        terms: vec![vec![
            Observable::new(kind, value.clone()).with_role(Role::Destination),
            Observable::new(Kind::Port, port.to_string()).with_role(Role::Destination),
        ]],
        value,
    })
}

fn url_or_host(text: &str) -> Result<Inferred, String> {
    if text.starts_with('/') {
        return Err(format!(
            "'{text}' is a path without a host; gsoc matches URLs with their host"
        ));
    }
    let key = url_key(text).ok_or_else(|| format!("'{text}' is not a URL"))?;
    match key.strip_suffix('/') {
        Some(host) if !host.contains(['/', '?']) => match infer(host) {
            Ok(found) if found.kind != Kind::Url => Ok(found),
            _ => Err(format!("'{text}' has a host that is not a name or address")),
        },
        _ => Ok(Inferred {
            kind: Kind::Url,
            value: key,
            terms: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_one_spelling() {
        assert_eq!(
            value(Kind::Domain, "WWW.Example.COM."),
            Ok("www.example.com".into())
        );
        assert_eq!(
            value(Kind::Domain, "*.evil.example"),
            Ok("evil.example".into())
        );
        assert!(value(Kind::Domain, "domain autuo.xicp.net").is_err());
        assert!(value(Kind::Domain, "10.0.0.1").is_err());
        assert_eq!(
            value(Kind::Cidr, "58.246.1.2/15"),
            Ok("58.246.0.0/15".into())
        );
        assert_eq!(value(Kind::Ipv6, "2001:DB8:0::1"), Ok("2001:db8::1".into()));
        assert!(value(Kind::Ipv4, "2001:db8::1").is_err());
        assert_eq!(
            value(Kind::Email, "<A.B@Example.ORG>"),
            Ok("a.b@example.org".into())
        );
        assert!(value(Kind::Md5, "xyz").is_err());
        assert_eq!(value(Kind::Port, "0443"), Ok("443".into()));
    }

    #[test]
    fn url_keys() {
        assert_eq!(
            url_key("HTTP://Evil.Example:80/a?b#c").as_deref(),
            Some("evil.example/a?b")
        );
        assert_eq!(
            url_key("https://evil.example").as_deref(),
            Some("evil.example/")
        );
        assert_eq!(
            url_key("evil.example:8080/x").as_deref(),
            Some("evil.example:8080/x")
        );
        assert_eq!(
            url_key("http://user@evil.example/").as_deref(),
            Some("evil.example/")
        );
        assert_eq!(url_key("http:///nohost"), None);
    }

    #[test]
    fn inference_from_list_values() {
        let kind = |t: &str| infer(t).map(|i| i.kind);
        assert_eq!(kind("192.0.2.1"), Ok(Kind::Ipv4));
        assert_eq!(kind("2001:db8::1"), Ok(Kind::Ipv6));
        assert_eq!(kind("5.63.151.0/24"), Ok(Kind::Cidr));
        assert_eq!(kind("evil.example"), Ok(Kind::Domain));
        assert_eq!(kind("evil.example/gate.php"), Ok(Kind::Url));
        assert_eq!(kind("http://134.119.220.118"), Ok(Kind::Ipv4));
        assert_eq!(kind("https://evil.example/"), Ok(Kind::Domain));
        assert_eq!(kind("a@evil.example"), Ok(Kind::Email));
        assert_eq!(kind("b2a5abfeef9e36964281a31e17b57c97"), Ok(Kind::Md5));
        assert_eq!(
            kind("7fa3abc229fd3cb9a0a6f07d9da15e35528c630d0ad5902d5422b305cae7eaa4"),
            Ok(Kind::Sha256)
        );
        assert!(
            infer("/ajan.asp")
                .expect_err("path")
                .contains("without a host")
        );
        assert!(infer("not a value").is_err());
        let with_port = infer("118.107.0.147:8080").expect("ip:port");
        assert_eq!(with_port.kind, Kind::Ipv4);
        assert_eq!(
            with_port.terms[0][1],
            Observable::new(Kind::Port, "8080").with_role(Role::Destination)
        );
    }
}
