//! Reading the many ways logs write a time. Times without an offset are
//! taken as UTC (Windows, Zeek and Suricata write UTC).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Parses RFC 3339 / ISO 8601 (with or without offset, `T` or space),
/// and epoch seconds (`1528134000.123`).
pub(crate) fn parse(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch(text.parse().ok()?);
    }
    let civil = if text.as_bytes().get(10) == Some(&b' ') {
        format!("{}T{}", &text[..10], &text[11..])
    } else {
        text.to_owned()
    };
    if let Ok(ts) = civil.parse::<Timestamp>() {
        return Some(ts);
    }
    civil
        .parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// Epoch seconds (fractional) to a timestamp.
pub(crate) fn epoch(seconds: f64) -> Option<Timestamp> {
    if !seconds.is_finite() {
        return None;
    }
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round() as i32;
    Timestamp::new(whole as i64, nanos.min(999_999_999)).ok()
}

/// Parses the access-log time `10/Oct/2000:13:55:36 -0700`.
pub(crate) fn parse_clf(text: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", text)
        .ok()?
        .to_timestamp()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_layouts() {
        let want: Timestamp = "2020-10-18T10:56:18.799Z".parse().expect("valid");
        assert_eq!(parse("2020-10-18T10:56:18.799Z"), Some(want));
        assert_eq!(parse("2020-10-18 10:56:18.799"), Some(want));
        assert_eq!(parse("2020-10-18T10:56:18.799"), Some(want));
        assert_eq!(parse("2020-10-18T12:56:18.799+02:00"), Some(want));
        assert_eq!(
            parse("1603018578.799").map(|t| t.as_millisecond()),
            Some(want.as_millisecond())
        );
        assert_eq!(parse("not a time"), None);
        assert_eq!(
            parse_clf("10/Oct/2000:13:55:36 -0700"),
            "2000-10-10T20:55:36Z".parse().ok()
        );
    }
}
