//! Beaconing: regular connections from one internal host to one external
//! destination, from Zeek conn, EVE flow and proxy logs.
//!
//! For each (internal source, external destination) pair the connection
//! times are kept (at most [`BeaconSettings::max_times`] per pair, at most
//! [`BeaconSettings::max_pairs`] pairs, the rest counted). At the end, a
//! pair beacons when it has at least `min_connections` connections whose
//! intervals mostly (`min_regular`) lie within `jitter` of their median,
//! and the median is at least `min_interval` seconds (faster traffic is a
//! session, not a check-in). Connections less than a second apart count
//! once (one check-in often opens several). Destinations under the
//! `ignore` domain suffixes (update and time services) are passed over.

use std::net::IpAddr;
use std::sync::Arc;

use gsoc_event::{Detection, DetectionKind, Fields, Level, RuleInfo, Source, Value};

use crate::capped::entry_within;
use crate::flow::{Flow, Networks};
use jiff::Timestamp;
use rustc_hash::FxHashMap;

/// What counts as beaconing.
#[derive(Clone, Debug)]
pub struct BeaconSettings {
    /// The fewest connections (check-ins) a beacon has.
    pub min_connections: usize,
    /// How far an interval may be from the median, as a fraction of it.
    pub jitter: f64,
    /// The share of intervals that must be within the jitter.
    pub min_regular: f64,
    /// The shortest median interval, in seconds.
    pub min_interval: f64,
    /// Domain suffixes of services that call home regularly by design.
    pub ignore: Vec<String>,
    /// The most pairs kept.
    pub max_pairs: usize,
    /// The most connection times kept per pair (the latest ones).
    pub max_times: usize,
}

impl Default for BeaconSettings {
    fn default() -> Self {
        BeaconSettings {
            min_connections: 10,
            jitter: 0.25,
            min_regular: 0.8,
            min_interval: 10.0,
            ignore: [
                "windowsupdate.com",
                "update.microsoft.com",
                "delivery.mp.microsoft.com",
                "apple.com",
                "gvt1.com",
                "ubuntu.com",
                "debian.org",
                "ntp.org",
                "time.windows.com",
            ]
            .map(str::to_owned)
            .to_vec(),
            max_pairs: 200_000,
            max_times: 512,
        }
    }
}

/// A pair found beaconing.
#[derive(Clone, Debug, PartialEq)]
pub struct Beacon {
    /// The internal host.
    pub source: IpAddr,
    /// The destination (an address, or a host name when the log has one).
    pub destination: String,
    /// Check-ins seen.
    pub connections: usize,
    /// The median interval, in seconds.
    pub interval: f64,
    /// The share of intervals within the jitter of the median.
    pub regular: f64,
    /// The first and last check-in.
    pub first: Timestamp,
    /// The last check-in.
    pub last: Timestamp,
    /// The record of the last check-in.
    pub record: Source,
}

#[derive(Debug)]
struct Pair {
    times: Vec<i64>,
    total: usize,
    record: Source,
}

/// Collects connections and finds the beacons among them.
#[derive(Debug)]
pub struct BeaconFinder {
    settings: BeaconSettings,
    networks: Networks,
    pairs: FxHashMap<(IpAddr, String), Pair>,
    overflow: u64,
}

impl BeaconFinder {
    /// A finder with these settings, for hosts in these networks.
    pub fn new(settings: BeaconSettings, networks: Networks) -> Self {
        BeaconFinder {
            settings,
            networks,
            pairs: FxHashMap::default(),
            overflow: 0,
        }
    }

    /// Pairs not kept because [`BeaconSettings::max_pairs`] were held.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Takes one flow: counted when it goes from an internal host to an
    /// external destination that is not ignored.
    pub fn add(&mut self, flow: &Flow) {
        let outward = flow.target.is_none_or(|t| self.networks.is_external(t));
        if !self.networks.is_internal(flow.source)
            || !outward
            || flow
                .host
                .as_deref()
                .is_some_and(|h| ignored(&self.settings, h))
        {
            return;
        }
        let (source, destination, time) = (flow.source, flow.destination(), flow.time);
        let record = flow.record.clone();
        let max_times = self.settings.max_times;
        let room = (self.settings.max_pairs, &mut self.overflow);
        let Some(pair) = entry_within(&mut self.pairs, (source, destination), room, || Pair {
            times: Vec::new(),
            total: 0,
            record: record.clone(),
        }) else {
            return;
        };
        pair.total += 1;
        pair.record = record;
        pair.times.push(time);
        if pair.times.len() > max_times * 2 {
            pair.times.sort_unstable();
            pair.times.drain(..pair.times.len() - max_times);
        }
    }

    /// The pairs that beacon, most regular first.
    pub fn finish(self) -> Vec<Beacon> {
        let settings = self.settings;
        let mut found: Vec<Beacon> = self
            .pairs
            .into_iter()
            .filter_map(|((source, destination), pair)| judge(&settings, source, destination, pair))
            .collect();
        found.sort_by(|a, b| {
            b.regular
                .total_cmp(&a.regular)
                .then(b.connections.cmp(&a.connections))
        });
        found
    }
}

fn ignored(settings: &BeaconSettings, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    settings
        .ignore
        .iter()
        .any(|s| host == *s || host.ends_with(&format!(".{s}")))
}

/// Whether a pair beacons, and how.
fn judge(
    settings: &BeaconSettings,
    source: IpAddr,
    destination: String,
    mut pair: Pair,
) -> Option<Beacon> {
    pair.times.sort_unstable();
    pair.times
        .dedup_by(|later, earlier| *later - *earlier < 1000);
    if pair.times.len() < settings.min_connections {
        return None;
    }
    let mut intervals: Vec<f64> = pair
        .times
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 1000.0)
        .collect();
    let mut sorted = intervals.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    if median < settings.min_interval {
        return None;
    }
    intervals.retain(|i| (i - median).abs() <= median * settings.jitter);
    let regular = intervals.len() as f64 / sorted.len() as f64;
    if regular < settings.min_regular {
        return None;
    }
    Some(Beacon {
        source,
        destination,
        connections: pair.times.len(),
        interval: median,
        regular,
        first: Timestamp::from_millisecond(*pair.times.first()?).ok()?,
        last: Timestamp::from_millisecond(*pair.times.last()?).ok()?,
        record: pair.record,
    })
}

impl Beacon {
    /// The beacon as a detection (kind `beacon`, level medium), with the
    /// pair, the interval and its regularity as fields.
    pub fn detection(&self) -> Detection {
        let title = format!(
            "Beaconing: {} calls {} every {:.0} s",
            self.source, self.destination, self.interval
        );
        let rule = RuleInfo {
            id: format!("beacon:{}:{}", self.source, self.destination),
            title,
            level: Level::Medium,
            author: "gsoc".to_owned(),
            tags: vec![
                "attack.command-and-control".to_owned(),
                "attack.t1071".to_owned(),
            ],
            status: String::new(),
            path: String::new(),
        };
        let mut fields = Fields::new();
        fields.push(
            "source",
            Value::Str(self.source.to_string().as_str().into()),
        );
        fields.push("destination", Value::Str(self.destination.as_str().into()));
        fields.push("connections", Value::Int(self.connections as i64));
        fields.push(
            "interval_seconds",
            Value::Float((self.interval * 10.0).round() / 10.0),
        );
        fields.push(
            "regular",
            Value::Float((self.regular * 100.0).round() / 100.0),
        );
        fields.push(
            "first_time",
            Value::Str(self.first.to_string().as_str().into()),
        );
        Detection {
            event_time: Some(self.last),
            host: Some(self.source.to_string()),
            ..Detection::new(
                DetectionKind::Beacon,
                Arc::new(rule),
                self.record.clone(),
                fields,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finder_with(times: &[i64]) -> Vec<Beacon> {
        let networks = crate::Policy::default().internal;
        let mut finder = BeaconFinder::new(BeaconSettings::default(), networks);
        for t in times {
            finder.add(&Flow {
                source: "10.0.0.5".parse().unwrap(),
                target: Some("203.0.113.9".parse().unwrap()),
                port: Some(443),
                host: None,
                time: t * 1000,
                answered: Some(true),
                record: Source {
                    file: "test".into(),
                    record: 1,
                },
            });
        }
        finder.finish()
    }

    #[test]
    fn regular_calls_beacon_and_irregular_ones_do_not() {
        let regular: Vec<i64> = (0..20).map(|n| n * 300 + (n % 3) * 20).collect();
        let found = finder_with(&regular);
        assert_eq!(found.len(), 1);
        assert!((found[0].interval - 300.0).abs() < 30.0);
        let irregular: Vec<i64> = (0..20).map(|n| n * n * 7 + n * 13).collect();
        assert!(finder_with(&irregular).is_empty());
        let too_few: Vec<i64> = (0..5).map(|n| n * 60).collect();
        assert!(finder_with(&too_few).is_empty());
    }

    #[test]
    fn connections_within_a_second_count_once_and_fast_sessions_are_not_beacons() {
        let bursts: Vec<i64> = (0..15).flat_map(|n| [n * 120, n * 120]).collect();
        assert_eq!(finder_with(&bursts)[0].connections, 15);
        let session: Vec<i64> = (0..50).map(|n| n * 2).collect();
        assert!(
            finder_with(&session).is_empty(),
            "every 2 s is a session, not a check-in"
        );
    }
}
