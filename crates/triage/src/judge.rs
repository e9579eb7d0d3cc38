//! The triage stage: every detection becomes an alert with a category, a
//! verdict (`vigilance` or `noise`), the reason for it and a severity.
//!
//! Detections arrive in the order the inputs hold them. Some verdicts
//! depend on what follows (a scan with no follow-up, a failed logon not
//! followed by a success, the duplicates of an alert), so each alert waits
//! until the input has moved `hold` past it in event time, or until more
//! than `max_pending` wait, and is then judged and written, in arrival
//! order. What triage remembers (sources' later alerts, logon successes,
//! duplicate keys) expires with its window and is capped; memory does not
//! grow with the input.
//!
//! The first reason that applies decides, in this order: suppressed,
//! duplicate, blocked, reconnaissance (or its follow-up), failed, target
//! not affected; else the alert needs vigilance.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use gsoc_event::{
    Assessment, Detection, DetectionKind, EventFacts, Level, Logon, Reason, Text, Verdict,
};
use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::Category;
use crate::capped::entry_within;
use crate::policy::{Policy, shifted};
use crate::target;

/// The most entries each memory (sources, logons, duplicate keys) keeps.
const MAX_KEYS: usize = 200_000;
/// The most times kept per key.
const MAX_TIMES: usize = 8;

type Times = SmallVec<[i64; 4]>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DuplicateKey {
    rule: Arc<str>,
    host: Option<String>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
}

#[derive(Debug)]
struct First {
    seq: u64,
    time: i64,
    count: u64,
}

#[derive(Debug)]
struct Pending {
    seq: u64,
    time: i64,
    detection: Detection,
    category: Category,
    early: Option<(Verdict, Reason)>,
}

/// A logon that succeeded, for deciding whether earlier failures matter.
#[derive(Clone, Debug)]
pub struct LogonSuccess {
    /// The user.
    pub user: Text,
    /// The host it happened on.
    pub host: String,
    /// When, in milliseconds since the epoch.
    pub time: i64,
}

impl LogonSuccess {
    /// The successful logon an event records, when it records one.
    pub fn of(event: &gsoc_event::Event) -> Option<LogonSuccess> {
        // The logon check first: this runs on every event with --triage.
        if Logon::of(event) != Some(Logon::Success) {
            return None;
        }
        let facts = EventFacts::of(event);
        Some(LogonSuccess {
            user: facts.user?,
            host: event.host().unwrap_or_default().to_ascii_lowercase(),
            time: event.time?.as_millisecond(),
        })
    }
}

/// Turns detections into alerts.
#[derive(Debug)]
pub struct Triage {
    policy: Policy,
    japanese: bool,
    pending: VecDeque<Pending>,
    next_seq: u64,
    watermark: i64,
    firsts: FxHashMap<DuplicateKey, First>,
    activity: FxHashMap<IpAddr, Times>,
    successes: FxHashMap<(Text, String), Times>,
    forgotten: u64,
    added: u64,
}

impl Triage {
    /// A triage stage under this policy, writing reasons in Japanese or
    /// English.
    pub fn new(policy: Policy, japanese: bool) -> Self {
        Triage {
            policy,
            japanese,
            pending: VecDeque::new(),
            next_seq: 0,
            watermark: i64::MIN,
            firsts: FxHashMap::default(),
            activity: FxHashMap::default(),
            successes: FxHashMap::default(),
            forgotten: 0,
            added: 0,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Entries not remembered because a memory was full.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    /// Notes a successful logon.
    pub fn logon_success(&mut self, success: LogonSuccess) {
        let key = (success.user, success.host);
        remember(&mut self.successes, key, success.time, &mut self.forgotten);
        self.advance(success.time);
    }

    /// Takes one detection; every alert that is ready is added to `out`.
    pub fn add(&mut self, detection: Detection, out: &mut Vec<Detection>) {
        let time = detection
            .event_time
            .map_or(self.watermark, Timestamp::as_millisecond);
        let category = crate::category::categorise(&detection, &self.policy.categories);
        let seq = self.next_seq;
        self.next_seq += 1;
        let facts = detection.facts.clone().unwrap_or_default();
        let early = self
            .suppressed(&detection, &facts, time)
            .or_else(|| self.duplicate(&detection, &facts, seq, time))
            .or_else(|| self.blocked(&facts));
        if category != Category::Reconnaissance
            && early.is_none()
            && !looks_failed(&facts)
            && let Some(src) = facts.src_ip
        {
            remember(&mut self.activity, src, time, &mut self.forgotten);
        }
        self.pending.push_back(Pending {
            seq,
            time,
            detection,
            category,
            early,
        });
        self.advance(time);
        self.release(out);
        self.added += 1;
        if self.added.is_multiple_of(4096) {
            self.expire();
        }
    }

    /// Judges every alert still waiting, adding them to `out`.
    pub fn finish(&mut self, out: &mut Vec<Detection>) {
        while let Some(p) = self.pending.pop_front() {
            out.push(self.judge(p));
        }
    }

    fn advance(&mut self, time: i64) {
        self.watermark = self.watermark.max(time);
    }

    fn release(&mut self, out: &mut Vec<Detection>) {
        let hold = millis(self.policy.hold);
        while let Some(front) = self.pending.front() {
            let due = front.time.saturating_add(hold) <= self.watermark;
            if !due && self.pending.len() <= self.policy.max_pending {
                break;
            }
            if let Some(p) = self.pending.pop_front() {
                out.push(self.judge(p));
            }
        }
    }

    /// Forgets what is older than every window.
    fn expire(&mut self) {
        let longest = [
            self.policy.duplicate,
            self.policy.reconnaissance,
            self.policy.failed_logon,
            self.policy.hold,
        ]
        .into_iter()
        .map(millis)
        .max()
        .unwrap_or(0);
        let horizon = self.watermark.saturating_sub(longest.saturating_mul(2));
        let duplicate = millis(self.policy.duplicate);
        self.firsts
            .retain(|_, f| f.time.saturating_add(duplicate) >= horizon);
        // Sources' alerts and logon successes stay while there is room:
        // probes are reported at the end of the run and look back at them.
        if self.activity.len() > MAX_KEYS / 2 {
            self.activity.retain(|_, t| t.iter().any(|t| *t >= horizon));
        }
        if self.successes.len() > MAX_KEYS / 2 {
            self.successes
                .retain(|_, t| t.iter().any(|t| *t >= horizon));
        }
    }

    fn suppressed(
        &self,
        detection: &Detection,
        facts: &EventFacts,
        time: i64,
    ) -> Option<(Verdict, Reason)> {
        let rule = &detection.rule;
        let s = self.policy.suppressions.iter().find(|s| {
            s.rule
                .as_ref()
                .is_none_or(|r| *r == rule.id || *r == rule.title)
                && s.host.as_ref().is_none_or(|h| {
                    detection
                        .host
                        .as_deref()
                        .is_some_and(|d| d.eq_ignore_ascii_case(h))
                })
                && s.source_net
                    .is_none_or(|n| facts.src_ip.is_some_and(|ip| n.contains(&ip)))
                && s.until_time.is_none_or(|u| time < u.as_millisecond())
        })?;
        let until =
            s.until
                .as_deref()
                .unwrap_or(if self.japanese { "無期限" } else { "no end" });
        let text = if self.japanese {
            format!("{}が抑制: {}({}まで)", s.by, s.reason, until)
        } else {
            format!("suppressed by {}: {} (until {until})", s.by, s.reason)
        };
        Some(noise("suppressed", text))
    }

    fn duplicate(
        &mut self,
        detection: &Detection,
        facts: &EventFacts,
        seq: u64,
        time: i64,
    ) -> Option<(Verdict, Reason)> {
        if detection.kind == DetectionKind::Correlation {
            return None;
        }
        let key = DuplicateKey {
            rule: Arc::from(detection.rule.id.as_str()),
            host: detection.host.clone(),
            src: facts.src_ip,
            dst: facts.dst_ip,
        };
        let window = millis(self.policy.duplicate);
        match self.firsts.get_mut(&key) {
            Some(first) if time.abs_diff(first.time) <= window.unsigned_abs() => {
                first.count += 1;
                let (first_seq, first_time, count) = (first.seq, first.time, first.count);
                self.fold_into(first_seq, time);
                let when = self.format_time(first_time);
                let text = if self.japanese {
                    format!("{when}のアラートと同一({count}件目の重複)")
                } else {
                    format!("same as the alert at {when} (duplicate number {count})")
                };
                Some(noise("duplicate", text))
            }
            _ => {
                if self.firsts.len() >= MAX_KEYS {
                    self.forgotten += 1;
                } else {
                    self.firsts.insert(
                        key,
                        First {
                            seq,
                            time,
                            count: 0,
                        },
                    );
                }
                None
            }
        }
    }

    /// Counts a duplicate on its first alert, while that one still waits.
    fn fold_into(&mut self, first_seq: u64, time: i64) {
        let Some(front) = self.pending.front() else {
            return;
        };
        let Some(at) = first_seq.checked_sub(front.seq) else {
            return;
        };
        if let Some(first) = self.pending.get_mut(at as usize) {
            let a = first
                .detection
                .assessment
                .get_or_insert_with(|| Box::new(placeholder()));
            a.duplicates += 1;
            a.last_seen = Timestamp::from_millisecond(time).ok();
        }
    }

    fn blocked(&self, facts: &EventFacts) -> Option<(Verdict, Reason)> {
        let action = facts.disposition.as_deref()?;
        let lower = action.to_ascii_lowercase();
        if !self.policy.blocked_actions.contains(&lower) {
            return None;
        }
        let text = if self.japanese {
            format!("センサーが遮断した(アクション: {action})")
        } else {
            format!("the sensor stopped it (action: {action})")
        };
        Some(noise("blocked", text))
    }

    /// The alert for a detection whose wait is over.
    fn judge(&self, p: Pending) -> Detection {
        let Pending {
            time,
            mut detection,
            category,
            early,
            ..
        } = p;
        let facts = detection.facts.clone().unwrap_or_default();
        let (verdict, reason) =
            early.unwrap_or_else(|| self.verdict(&detection, &facts, category, time));
        let asset = self.policy.asset(facts.dst_ip, detection.host.as_deref());
        let mut severity = detection.rule.level;
        if let Some(confidence) = detection.indicator.as_ref().and_then(|i| i.confidence)
            && confidence >= 90
        {
            severity = shifted(severity, 1);
        }
        if let Some(asset) = asset {
            severity = shifted(severity, asset.severity_shift());
        }
        if verdict == Verdict::Noise {
            severity = severity.min(Level::Low);
        }
        let folded = detection.assessment.take();
        detection.assessment = Some(Box::new(Assessment {
            category: category.as_str(),
            verdict,
            reason,
            severity,
            duplicates: folded.as_ref().map_or(0, |a| a.duplicates),
            last_seen: folded.and_then(|a| a.last_seen),
        }));
        detection
    }

    fn verdict(
        &self,
        detection: &Detection,
        facts: &EventFacts,
        category: Category,
        time: i64,
    ) -> (Verdict, Reason) {
        if category == Category::Reconnaissance {
            return self.reconnaissance(facts, time);
        }
        if let Some(failed) = self.failed(facts, detection, time) {
            return failed;
        }
        if let Some(detail) = target::not_affected(detection, facts, &self.policy, self.japanese) {
            return noise("not-affected", detail);
        }
        self.vigilance(facts, category)
    }

    fn reconnaissance(&self, facts: &EventFacts, time: i64) -> (Verdict, Reason) {
        let window = millis(self.policy.reconnaissance);
        let later = facts
            .src_ip
            .and_then(|src| first_within(self.activity.get(&src)?, time, window));
        let src = facts
            .src_ip
            .map_or_else(|| "?".to_owned(), |ip| ip.to_string());
        let span = self.policy.reconnaissance;
        match later {
            Some(t) => {
                let when = self.format_time(t);
                let text = if self.japanese {
                    format!("偵察の後、{src}から別のアラート({when})")
                } else {
                    format!("reconnaissance followed by another alert from {src} at {when}")
                };
                vigilance("followed-up", text)
            }
            None => {
                let text = if self.japanese {
                    format!("偵察のみ: その後{span:#}以内に{src}からの他のアラートはない")
                } else {
                    format!("scans and probes only: no other alert from {src} within {span:#}")
                };
                noise("reconnaissance", text)
            }
        }
    }

    fn failed(
        &self,
        facts: &EventFacts,
        detection: &Detection,
        time: i64,
    ) -> Option<(Verdict, Reason)> {
        if let Some(code) = facts.http_status.filter(|c| (400..600).contains(c)) {
            let text = if self.japanese {
                format!("サーバーが{code}を返しており、攻撃は成功していない")
            } else {
                format!("the server answered {code}: the attack did not get through")
            };
            return Some(noise("failed", text));
        }
        if facts.answered == Some(false) {
            let text = if self.japanese {
                "接続が確立していない".to_owned()
            } else {
                "the connection was never established".to_owned()
            };
            return Some(noise("failed", text));
        }
        if facts.logon == Some(Logon::Failure) {
            return Some(self.failed_logon(facts, detection, time));
        }
        None
    }

    fn failed_logon(
        &self,
        facts: &EventFacts,
        detection: &Detection,
        time: i64,
    ) -> (Verdict, Reason) {
        let user = facts.user.clone().unwrap_or_default();
        let host = detection
            .host
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let window = millis(self.policy.failed_logon);
        let success = self
            .successes
            .get(&(user.clone(), host))
            .and_then(|times| first_within(times, time, window));
        let span = self.policy.failed_logon;
        match success {
            Some(t) => {
                let when = self.format_time(t);
                let text = if self.japanese {
                    format!("{user}のログオン失敗の後、{when}にログオンが成功")
                } else {
                    format!("failed logons for {user} followed by a successful logon at {when}")
                };
                vigilance("logon-succeeded", text)
            }
            None => {
                let text = if self.japanese {
                    format!("{user}のログオン失敗の後、{span:#}以内に成功したログオンはない")
                } else {
                    format!(
                        "failed logon for {user} not followed by a successful one within {span:#}"
                    )
                };
                noise("failed", text)
            }
        }
    }

    fn vigilance(&self, facts: &EventFacts, category: Category) -> (Verdict, Reason) {
        let ja = self.japanese;
        if category == Category::MalwareInfection {
            let text = if ja {
                "マルウェア感染の兆候"
            } else {
                "a sign of malware infection"
            };
            return vigilance("infection", text.to_owned());
        }
        if let Some(code) = facts.http_status.filter(|c| (200..400).contains(c)) {
            let text = if ja {
                format!("サーバーが{code}を返しており、攻撃が届いている")
            } else {
                format!("the server answered {code}: the attack got through")
            };
            return vigilance("succeeded", text);
        }
        let text = if ja {
            "失敗・遮断・影響なしの形跡がない"
        } else {
            "no sign that it failed, was stopped or missed its target"
        };
        vigilance("attack", text.to_owned())
    }

    /// A time for a reason: UTC in English, JST in Japanese.
    fn format_time(&self, ms: i64) -> String {
        Timestamp::from_millisecond(ms).map_or_else(
            |_| ms.to_string(),
            |t| gsoc_event::time::readable_time(t, self.japanese),
        )
    }
}

/// Whether the facts alone say the activity failed (so it does not count
/// as a scan's follow-up).
fn looks_failed(facts: &EventFacts) -> bool {
    facts.http_status.is_some_and(|c| c >= 400)
        || facts.answered == Some(false)
        || facts.logon == Some(Logon::Failure)
}

fn remember<K: std::hash::Hash + Eq>(
    map: &mut FxHashMap<K, Times>,
    key: K,
    time: i64,
    forgotten: &mut u64,
) {
    let Some(times) = entry_within(map, key, (MAX_KEYS, forgotten), Times::new) else {
        return;
    };
    times.push(time);
    if times.len() > MAX_TIMES {
        times.sort_unstable();
        times.remove(0);
    }
}

/// The first of `times` in the `window` from `time` on.
fn first_within(times: &[i64], time: i64, window: i64) -> Option<i64> {
    let end = time.saturating_add(window);
    times.iter().find(|t| (time..=end).contains(*t)).copied()
}

fn millis(d: SignedDuration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn noise(code: &'static str, text: String) -> (Verdict, Reason) {
    (Verdict::Noise, Reason { code, text })
}

fn vigilance(code: &'static str, text: String) -> (Verdict, Reason) {
    (Verdict::Vigilance, Reason { code, text })
}

/// An assessment that only carries folded duplicates until the alert is
/// judged.
fn placeholder() -> Assessment {
    Assessment {
        category: "",
        verdict: Verdict::Vigilance,
        reason: Reason {
            code: "",
            text: String::new(),
        },
        severity: Level::Informational,
        duplicates: 0,
        last_seen: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;
    use gsoc_event::{Fields, RuleInfo, Source};

    fn detection(rule: &str, tags: &[&str], at: i64, facts: EventFacts) -> Detection {
        Detection {
            kind: DetectionKind::Sigma,
            rule: Arc::new(RuleInfo {
                id: rule.into(),
                title: rule.into(),
                level: Level::High,
                author: String::new(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                status: String::new(),
                path: String::new(),
            }),
            event_time: Timestamp::from_second(at).ok(),
            host: Some("web01".into()),
            source: Source {
                file: "f".into(),
                record: at as u64,
            },
            fields: Fields::new(),
            indicator: None,
            context: Fields::new(),
            facts: Some(Arc::new(facts)),
            assessment: None,
        }
    }

    fn from(src: &str) -> EventFacts {
        EventFacts {
            src_ip: src.parse().ok(),
            ..EventFacts::default()
        }
    }

    fn run(policy: Policy, detections: Vec<Detection>) -> Vec<Detection> {
        let mut triage = Triage::new(policy, false);
        let mut out = Vec::new();
        for d in detections {
            triage.add(d, &mut out);
        }
        triage.finish(&mut out);
        out
    }

    fn verdicts(alerts: &[Detection]) -> Vec<(&'static str, &'static str)> {
        alerts
            .iter()
            .map(|d| {
                let a = d.assessment.as_ref().expect("triaged");
                (a.verdict.as_str(), a.reason.code)
            })
            .collect()
    }

    const EXPLOIT: &[&str] = &["attack.initial-access", "attack.t1190"];
    const SCAN: &[&str] = &["attack.reconnaissance", "attack.t1595"];

    #[test]
    fn the_answer_decides_whether_an_exploit_failed() {
        let refused = EventFacts {
            http_status: Some(403),
            ..from("198.51.100.1")
        };
        let served = EventFacts {
            http_status: Some(200),
            ..from("198.51.100.2")
        };
        let never = EventFacts {
            answered: Some(false),
            ..from("198.51.100.3")
        };
        let alerts = run(
            Policy::default(),
            vec![
                detection("sqli", EXPLOIT, 0, refused),
                detection("sqli", EXPLOIT, 1, served),
                detection("sqli", EXPLOIT, 2, never),
            ],
        );
        assert_eq!(
            verdicts(&alerts),
            [
                ("noise", "failed"),
                ("vigilance", "succeeded"),
                ("noise", "failed")
            ]
        );
        let a = alerts[0].assessment.as_ref().unwrap();
        assert_eq!(a.category, "targeted-attack");
        assert_eq!(a.severity, Level::Low, "noise is at most low");
        assert!(a.reason.text.contains("403"));
        assert_eq!(alerts[1].assessment.as_ref().unwrap().severity, Level::High);
    }

    #[test]
    fn a_scan_is_noise_unless_its_source_follows_up() {
        let alerts = run(
            Policy::default(),
            vec![
                detection("scan", SCAN, 0, from("198.51.100.1")),
                detection("scan", SCAN, 0, from("198.51.100.2")),
                detection("exploit", EXPLOIT, 600, from("198.51.100.2")),
                detection("scan", SCAN, 0, from("198.51.100.3")),
                detection("exploit", EXPLOIT, 7200, from("198.51.100.3")),
            ],
        );
        assert_eq!(
            verdicts(&alerts),
            [
                ("noise", "reconnaissance"),
                ("vigilance", "followed-up"),
                ("vigilance", "attack"),
                ("noise", "reconnaissance"),
                ("vigilance", "attack"),
            ],
            "the third source followed up after the 1 h window"
        );
    }

    #[test]
    fn a_failed_logon_matters_only_when_a_success_follows() {
        let failure = |user: &str| EventFacts {
            logon: Some(Logon::Failure),
            user: Some(Text::from(user)),
            ..from("10.0.0.9")
        };
        let mut triage = Triage::new(Policy::default(), false);
        let mut out = Vec::new();
        let brute = ["attack.credential-access", "attack.t1110"];
        triage.add(detection("fail", &brute, 0, failure("alice")), &mut out);
        triage.add(detection("fail2", &brute, 0, failure("bob")), &mut out);
        triage.logon_success(LogonSuccess {
            user: Text::from("alice"),
            host: "web01".into(),
            time: 120_000,
        });
        triage.finish(&mut out);
        assert_eq!(
            verdicts(&out),
            [("vigilance", "logon-succeeded"), ("noise", "failed")]
        );
        assert_eq!(
            out[0].assessment.as_ref().unwrap().category,
            "unauthorised-access"
        );
    }

    #[test]
    fn duplicates_fold_into_the_first_alert() {
        let same = || from("198.51.100.1");
        let alerts = run(
            Policy::default(),
            vec![
                detection("x", EXPLOIT, 0, same()),
                detection("x", EXPLOIT, 60, same()),
                detection("x", EXPLOIT, 120, same()),
                detection("x", EXPLOIT, 7300, same()),
            ],
        );
        assert_eq!(
            verdicts(&alerts),
            [
                ("vigilance", "attack"),
                ("noise", "duplicate"),
                ("noise", "duplicate"),
                ("vigilance", "attack"),
            ]
        );
        let first = alerts[0].assessment.as_ref().unwrap();
        assert_eq!(first.duplicates, 2);
        assert_eq!(first.last_seen, Timestamp::from_second(120).ok());
    }

    #[test]
    fn blocks_suppressions_and_assets_make_noise() {
        let policy = Policy::from_toml(&[
            ("d", DEFAULT_POLICY),
            (
                "p",
                r#"
                [[suppress]]
                rule = "noisy"
                source = "198.51.100.0/24"
                by = "yamada"
                reason = "our scanner"
                until = "1970-01-02"
                [[assets]]
                name = "db01"
                addresses = ["10.0.0.5"]
                platform = "linux"
                criticality = "critical"
                "#,
            ),
        ])
        .unwrap();
        let blocked = EventFacts {
            disposition: Some(Text::from("blocked")),
            ..from("203.0.113.1")
        };
        let to_db = EventFacts {
            dst_ip: "10.0.0.5".parse().ok(),
            ..from("203.0.113.2")
        };
        let alerts = run(
            policy,
            vec![
                detection("any", EXPLOIT, 0, blocked),
                detection("noisy", EXPLOIT, 10, from("198.51.100.4")),
                detection("noisy", EXPLOIT, 200_000, from("198.51.100.5")),
                detection("Windows SMB exploit", EXPLOIT, 30, to_db.clone()),
                detection("Linux exploit", EXPLOIT, 40, to_db),
            ],
        );
        assert_eq!(
            verdicts(&alerts),
            [
                ("noise", "blocked"),
                ("noise", "suppressed"),
                ("vigilance", "attack"),
                ("noise", "not-affected"),
                ("vigilance", "attack"),
            ],
            "the suppression ended on 1970-01-02"
        );
        assert!(
            alerts[1]
                .assessment
                .as_ref()
                .unwrap()
                .reason
                .text
                .contains("yamada")
        );
        assert_eq!(
            alerts[4].assessment.as_ref().unwrap().severity,
            Level::Critical,
            "a critical asset raises severity"
        );
    }

    #[test]
    fn detections_without_a_time_are_judged_too() {
        let mut untimed = detection("x", EXPLOIT, 0, from("198.51.100.1"));
        untimed.event_time = None;
        let alerts = run(
            Policy::default(),
            vec![
                untimed.clone(),
                detection("x", EXPLOIT, 1_700_000_000, from("198.51.100.1")),
                untimed,
            ],
        );
        assert_eq!(
            verdicts(&alerts),
            [
                ("vigilance", "attack"),
                ("vigilance", "attack"),
                ("noise", "duplicate")
            ],
            "an untimed alert takes the latest time seen"
        );
    }

    #[test]
    fn alerts_wait_for_their_window_but_no_longer() {
        let mut triage = Triage::new(Policy::default(), true);
        let mut out = Vec::new();
        for n in 0..100 {
            triage.add(
                detection("x", EXPLOIT, n * 60, from("198.51.100.1")),
                &mut out,
            );
        }
        assert_eq!(
            out.len(),
            40,
            "the first 40 minutes are out once 1 h has passed"
        );
        let mut flood = Triage::new(
            Policy::from_toml(&[("d", DEFAULT_POLICY), ("p", "[windows]\nmax_pending = 10")])
                .unwrap(),
            true,
        );
        let mut released = Vec::new();
        for _ in 0..100 {
            flood.add(
                detection("x", EXPLOIT, 0, from("198.51.100.1")),
                &mut released,
            );
        }
        assert_eq!(released.len(), 90, "at most 10 wait");
        let text = &released[1].assessment.as_ref().unwrap().reason.text;
        assert!(
            text.contains("JST"),
            "Japanese reasons give Tokyo time: {text}"
        );
    }
}
