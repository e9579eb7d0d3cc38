//! The correlator's memory is bounded: past the cap, new groups are counted
//! as overflow instead of kept, and expired groups are dropped.

use gsoc_event::{Event, Fields, Format, LogSource, Value};
use gsoc_sigma::{EngineBuilder, MAX_GROUPS, RuleSet};

const RULES: &str = "\
title: login
id: 11111111-1111-4111-8111-111111111111
name: login
logsource: {product: test}
detection:
    selection:
        action: login
    condition: selection
---
title: many logins per user
id: 22222222-2222-4222-8222-222222222222
correlation:
    type: event_count
    rules: [login]
    group-by: [user]
    timespan: 1m
    condition:
        gte: 3
";

fn event(user: &str, second: i64) -> Event {
    let mut e = Event::new(Format::Json, "test.json", 1, String::new());
    e.logsource = LogSource::product("test");
    e.time = Some(jiff::Timestamp::from_second(1_700_000_000 + second).unwrap());
    let mut f = Fields::new();
    f.push("action", Value::Str("login".into()));
    f.push("user", Value::Str(user.into()));
    e.fields = f;
    e
}

#[test]
fn groups_are_capped_with_overflow_counted_and_expire_with_the_timespan() {
    let mut set = RuleSet::new();
    set.add_text("test.yml", RULES);
    let engine = EngineBuilder::new().build(&set);
    let mut session = engine.session();
    let mut correlator = engine.correlator();
    let extra = 10;
    for n in 0..MAX_GROUPS + extra {
        let mut detections = Vec::new();
        session.detect(&event(&format!("user{n}"), 0), |d| detections.push(d));
        assert_eq!(detections.len(), 1);
        let observed = correlator.observe(&detections[0]);
        assert!(
            observed.suppressed,
            "the login rule is not generated on its own"
        );
    }
    assert_eq!(correlator.groups(), MAX_GROUPS);
    assert_eq!(correlator.overflow(), extra as u64);
    // Two minutes later, a sweep drops every group the timespan left behind.
    for n in 0..2048 {
        let mut detections = Vec::new();
        session.detect(&event(&format!("late{n}"), 120), |d| detections.push(d));
        correlator.observe(&detections[0]);
    }
    assert!(correlator.groups() <= 2048, "{}", correlator.groups());
}
