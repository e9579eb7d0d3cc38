//! Times as gsoc reads and shows them: one reading of time arguments and
//! feed cells, and one way of showing a time to English or Japanese
//! readers.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A time written as RFC 3339, as `YYYY-MM-DD HH:MM:SS` (UTC), or as a
/// date (its start in UTC).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let civil = text
        .replacen(' ', "T", 1)
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .ok()?;
    civil.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// The zone Japanese readers see times in. The zone database may be
/// missing on minimal systems; Japan has had no daylight saving time since
/// 1951, so UTC+9 stands in.
pub fn tokyo() -> TimeZone {
    TimeZone::get("Asia/Tokyo").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
}

/// A time as people read it: `2024-03-31 15:30:00 UTC` in English,
/// `2024-04-01 00:30:00 JST` in Japanese.
pub fn readable_time(time: Timestamp, japanese: bool) -> String {
    if japanese {
        time.to_zoned(tokyo())
            .strftime("%Y-%m-%d %H:%M:%S JST")
            .to_string()
    } else {
        time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_and_shown() {
        let t: Timestamp = "2024-03-31T15:30:00Z".parse().expect("valid");
        assert_eq!(parse_time("2024-03-31 15:30:00"), Some(t));
        assert_eq!(parse_time("2024-04-01T00:30:00+09:00"), Some(t));
        assert_eq!(
            parse_time("2024-04-01"),
            "2024-04-01T00:00:00Z".parse().ok()
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(readable_time(t, true), "2024-04-01 00:30:00 JST");
        assert_eq!(readable_time(t, false), "2024-03-31 15:30:00 UTC");
    }
}
