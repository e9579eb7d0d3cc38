//! Sigma correlation rules evaluated over a stream of detections, in the
//! order they are written: event counts, distinct values, temporal
//! sequences (ordered or not) and sums, averages and percentiles of a
//! field, per group-by key and within the timespan.
//!
//! Memory is bounded: a group's entries older than the timespan (measured
//! from the newest detection seen) are dropped, groups with nothing left
//! are removed, and past [`MAX_GROUPS`] groups per correlation new groups
//! are counted as overflow instead of kept. A correlation that fires resets
//! its group, so it reports once per burst, not on every later event.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use gsoc_event::{Detection, DetectionKind, Fields, Level, RuleInfo, Value};
use jiff::Timestamp;

use crate::engine::{Engine, rule_names};
use crate::rule::{Correlation, CorrelationType};

/// The most groups one correlation keeps at a time.
pub const MAX_GROUPS: usize = 100_000;

/// The event fields a correlation reads from the detections of one of its
/// rules: its group-by fields (through the rule's aliases) and the value
/// field.
pub(crate) fn fields_for(
    correlation: &Correlation,
    reference: &str,
    name: Option<&str>,
) -> Vec<String> {
    let mut fields: Vec<String> = correlation
        .group_by
        .iter()
        .map(|group| {
            aliased(correlation, group, reference, name)
                .unwrap_or(group)
                .to_owned()
        })
        .collect();
    fields.extend(correlation.condition_field.clone());
    fields
}

/// The field an alias stands for in one rule's events.
fn aliased<'c>(
    correlation: &'c Correlation,
    alias: &str,
    reference: &str,
    name: Option<&str>,
) -> Option<&'c str> {
    let (_, per_rule) = correlation.aliases.iter().find(|(a, _)| a == alias)?;
    per_rule
        .iter()
        .find(|(rule, _)| rule == reference || Some(rule.as_str()) == name)
        .map(|(_, field)| field.as_str())
}

/// One correlation, ready to evaluate.
#[derive(Debug)]
struct Compiled {
    correlation: Correlation,
    info: Arc<RuleInfo>,
    /// For each entry of `rules:`, the ids it names (a rule id or name).
    references: Vec<Vec<String>>,
    groups: HashMap<Vec<String>, Group>,
    /// Milliseconds.
    timespan: i64,
    /// Detections taken, for sweeping expired groups now and then.
    taken: u64,
}

/// What one group holds within the timespan: (time in ms, which rule,
/// the value of the condition field).
#[derive(Debug, Default)]
struct Group {
    entries: VecDeque<(i64, usize, Option<Value>)>,
    last: Option<Detection>,
}

/// What observing one detection gives.
#[derive(Debug, Default)]
pub struct Observed {
    /// Whether the detection itself should be left out of the output: its
    /// rule is referred to by a correlation that does not `generate` it.
    pub suppressed: bool,
    /// The correlation detections it completed.
    pub fired: Vec<Detection>,
}

/// Evaluates the correlation rules of an engine over detections.
#[derive(Debug)]
pub struct Correlator {
    compiled: Vec<Compiled>,
    /// Rule ids whose own detections are left out of the output.
    suppressed: Vec<String>,
    /// Groups not kept because a correlation had [`MAX_GROUPS`] already.
    overflow: u64,
    newest: i64,
}

impl Engine {
    /// A correlator for this engine's correlation rules.
    pub fn correlator(&self) -> Correlator {
        let names = rule_names(self);
        let ids_for = |reference: &str| -> Vec<String> {
            names
                .iter()
                .filter(|(id, name)| id == reference || name.as_deref() == Some(reference))
                .map(|(id, _)| id.clone())
                .collect()
        };
        let mut suppressed = Vec::new();
        let compiled = self
            .correlations()
            .iter()
            .map(|c| {
                let references: Vec<Vec<String>> = c.rules.iter().map(|r| ids_for(r)).collect();
                if !c.generate {
                    suppressed.extend(references.iter().flatten().cloned());
                }
                Compiled {
                    info: Arc::new(info(c)),
                    timespan: (c.timespan_secs as i64).saturating_mul(1000),
                    correlation: c.clone(),
                    references,
                    groups: HashMap::new(),
                    taken: 0,
                }
            })
            .collect();
        Correlator {
            compiled,
            suppressed,
            overflow: 0,
            newest: i64::MIN,
        }
    }
}

fn info(c: &Correlation) -> RuleInfo {
    RuleInfo {
        id: c
            .meta
            .id
            .clone()
            .unwrap_or_else(|| c.meta.name.clone().unwrap_or_default()),
        title: c.meta.title.clone(),
        level: if c.meta.level == Level::Informational {
            Level::Medium
        } else {
            c.meta.level
        },
        author: c.meta.author.clone(),
        tags: c.meta.tags.clone(),
        status: c.meta.status.clone(),
        path: c.meta.path.clone(),
    }
}

impl Correlator {
    /// Whether there is anything to correlate.
    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// Groups not kept because a correlation already held the most.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// How many groups are held now, over all correlations.
    pub fn groups(&self) -> usize {
        self.compiled.iter().map(|c| c.groups.len()).sum()
    }

    /// Takes one detection (in output order). Detections without a time
    /// cannot be placed in a timespan and are not correlated.
    pub fn observe(&mut self, detection: &Detection) -> Observed {
        let mut observed = Observed {
            suppressed: detection.kind == DetectionKind::Sigma
                && self.suppressed.contains(&detection.rule.id),
            fired: Vec::new(),
        };
        let Some(time) = detection.event_time.map(|t| t.as_millisecond()) else {
            return observed;
        };
        self.newest = self.newest.max(time);
        let mut overflow = 0;
        for compiled in &mut self.compiled {
            let Some(slot) = compiled
                .references
                .iter()
                .position(|ids| ids.contains(&detection.rule.id))
            else {
                continue;
            };
            if let Some(fired) = compiled.observe(detection, slot, time, &mut overflow) {
                observed.fired.push(fired);
            }
            compiled.expire(self.newest);
        }
        self.overflow += overflow;
        observed
    }
}

impl Compiled {
    fn observe(
        &mut self,
        detection: &Detection,
        slot: usize,
        time: i64,
        overflow: &mut u64,
    ) -> Option<Detection> {
        let key: Vec<String> = self
            .correlation
            .group_by
            .iter()
            .map(|group| {
                let reference = &self.correlation.rules[slot];
                let field = aliased(&self.correlation, group, reference, None).unwrap_or(group);
                context_value(&detection.context, field)
                    .map(text_of)
                    .unwrap_or_default()
            })
            .collect();
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            *overflow += 1;
            return None;
        }
        let value = self
            .correlation
            .condition_field
            .as_deref()
            .and_then(|f| context_value(&detection.context, f))
            .cloned();
        let timespan = self.timespan;
        let group = self.groups.entry(key.clone()).or_default();
        group.entries.push_back((time, slot, value));
        group.entries.retain(|(t, _, _)| *t >= time - timespan);
        group.last = Some(detection.clone());
        let measured = measure(&self.correlation, &group.entries)?;
        if !holds(&self.correlation, measured) {
            return None;
        }
        let group = self.groups.remove(&key)?;
        Some(self.fire(&key, measured, group))
    }

    /// Every 1,024 detections: drops what is older than the timespan
    /// before `newest`, and the groups left empty.
    fn expire(&mut self, newest: i64) {
        self.taken += 1;
        if !self.taken.is_multiple_of(1024) {
            return;
        }
        let oldest = newest.saturating_sub(self.timespan);
        self.groups.retain(|_, group| {
            group.entries.retain(|(t, _, _)| *t >= oldest);
            !group.entries.is_empty()
        });
    }

    fn fire(&self, key: &[String], measured: f64, group: Group) -> Detection {
        let last = group.last.expect("a group that fired holds a detection");
        let mut fields = Fields::new();
        for (name, value) in self.correlation.group_by.iter().zip(key) {
            fields.push(name.as_str(), Value::Str(value.as_str().into()));
        }
        let what = match self.correlation.kind {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => "rules_matched",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
            CorrelationType::ValuePercentile => "value_percentile",
        };
        let number = if measured.fract() == 0.0 && measured.abs() < 1e15 {
            Value::Int(measured as i64)
        } else {
            Value::Float(measured)
        };
        fields.push(what, number);
        let first = group
            .entries
            .front()
            .map(|(t, _, _)| *t)
            .unwrap_or_default();
        if let Ok(start) = Timestamp::from_millisecond(first) {
            fields.push("first_time", Value::Str(start.to_string().as_str().into()));
        }
        Detection {
            event_time: last.event_time,
            host: last.host.clone(),
            ..Detection::new(
                DetectionKind::Correlation,
                Arc::clone(&self.info),
                last.source.clone(),
                fields,
            )
        }
    }
}

fn context_value<'f>(context: &'f Fields, name: &str) -> Option<&'f Value> {
    context.get(name).or_else(|| {
        context
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn text_of(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::List(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What the condition compares, for a group's entries; `None` when the
/// correlation cannot hold yet (a temporal one missing a rule).
fn measure(
    correlation: &Correlation,
    entries: &VecDeque<(i64, usize, Option<Value>)>,
) -> Option<f64> {
    let numbers = || {
        entries
            .iter()
            .filter_map(|(_, _, v)| v.as_ref().and_then(number_of))
    };
    match correlation.kind {
        CorrelationType::EventCount => Some(entries.len() as f64),
        CorrelationType::ValueCount => {
            let mut seen: Vec<String> = entries
                .iter()
                .filter_map(|(_, _, v)| v.as_ref().map(text_of))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            Some(seen.len() as f64)
        }
        CorrelationType::Temporal => {
            let all =
                (0..correlation.rules.len()).all(|slot| entries.iter().any(|(_, s, _)| *s == slot));
            all.then_some(correlation.rules.len() as f64)
        }
        CorrelationType::TemporalOrdered => {
            in_order(entries, correlation.rules.len()).then_some(correlation.rules.len() as f64)
        }
        CorrelationType::ValueSum => Some(numbers().sum()),
        CorrelationType::ValueAvg => {
            let values: Vec<f64> = numbers().collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        }
        CorrelationType::ValuePercentile => {
            let mut values: Vec<f64> = numbers().collect();
            let rank = correlation
                .condition
                .iter()
                .find(|(op, _)| op == "percentile")
                .map(|(_, p)| *p)?;
            percentile(&mut values, rank)
        }
    }
}

/// Whether the entries hold the rules in the order given (each after the
/// one before it).
fn in_order(entries: &VecDeque<(i64, usize, Option<Value>)>, rules: usize) -> bool {
    let mut next = 0;
    for (_, slot, _) in entries {
        if *slot == next {
            next += 1;
            if next == rules {
                return true;
            }
        }
    }
    false
}

/// The nearest-rank percentile of the values.
fn percentile(values: &mut [f64], rank: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let index = ((rank / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[index.clamp(1, values.len()) - 1])
}

/// Whether every comparison of the condition holds (`percentile` names the
/// rank, not a comparison). Temporal correlations without a condition hold
/// when every rule matched.
fn holds(correlation: &Correlation, measured: f64) -> bool {
    correlation
        .condition
        .iter()
        .filter(|(op, _)| op != "percentile")
        .all(|(op, limit)| match op.as_str() {
            "gt" => measured > *limit,
            "gte" => measured >= *limit,
            "lt" => measured < *limit,
            "lte" => measured <= *limit,
            "eq" => measured == *limit,
            "neq" => measured != *limit,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v = vec![15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(percentile(&mut v, 30.0), Some(20.0));
        assert_eq!(percentile(&mut v, 100.0), Some(50.0));
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn ordered_means_each_after_the_one_before() {
        let e = |slots: &[usize]| slots.iter().map(|s| (0, *s, None)).collect::<VecDeque<_>>();
        assert!(in_order(&e(&[1, 0, 2, 1]), 2));
        assert!(!in_order(&e(&[1, 1, 0]), 2));
    }
}
