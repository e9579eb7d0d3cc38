//! Compiled rules: boolean expressions over field predicates, and the
//! per-value matchers those predicates use.

use std::net::IpAddr;

use ipnet::IpNet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use regex::{Regex, RegexBuilder};

use crate::pattern::StrMatcher;

/// A field name interned to a small number. Names are compared without
/// case and without spaces (`Threat Name` is `ThreatName` is `threatname`),
/// so rules match Windows events whose data names contain spaces, as the
/// Sigma specification asks.
pub(crate) type FieldId = u32;

/// The pseudo-field of keyword searches, which look at every value.
pub(crate) const ANY_FIELD: FieldId = FieldId::MAX;

/// One compiled rule variant (a rule under one field-name mapping, with the
/// meta filters that apply to it).
#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) expr: Expr,
    pub(crate) preds: Vec<Pred>,
    /// Literals of which at least one must occur (lower-cased, as a
    /// substring of the named field) for the rule to match; `None` when no
    /// such set could be derived and the rule must always be evaluated.
    pub(crate) required: Option<Vec<Atom>>,
}

/// A pre-filter literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Atom {
    pub(crate) field: FieldId,
    pub(crate) literal: String,
    /// The literal is the whole lower-cased value (an exact match), so a
    /// hash lookup finds it without scanning.
    pub(crate) exact: bool,
}

/// A boolean expression over predicates.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Pred(u32),
    Not(Box<Expr>),
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    /// At least `n` of the operands (`2 of selection_*`).
    AtLeast(usize, Box<[Expr]>),
}

/// A test on one field (or on every field, for keywords).
#[derive(Debug)]
pub(crate) struct Pred {
    /// `None` for keyword search.
    pub(crate) field: Option<FieldId>,
    pub(crate) test: Test,
}

#[derive(Debug)]
pub(crate) enum Test {
    /// Each spec is a set of alternative matchers (one rule value and its
    /// expansions). The field matches a spec when one of its values matches
    /// one of the spec's matchers; `all` needs every spec, otherwise one.
    /// `neq` negates the result for a present field. `any` is a faster way
    /// to test the case-insensitive `contains` values when `all` is off.
    Values {
        specs: Vec<Vec<Matcher>>,
        all: bool,
        neq: bool,
        any: Option<AnyContains>,
    },
    /// `field: null`: absent, JSON null or empty.
    Null,
    /// `field|exists: true/false`.
    Exists(bool),
    /// `field|fieldref: other`: compares with another field's value.
    FieldRef {
        other: FieldId,
        how: RefHow,
        neq: bool,
        cased: bool,
    },
    /// A value that can never match (an undefined placeholder).
    Never,
}

/// The case-insensitive `contains` values of a predicate in one automaton,
/// so a long list costs one scan of the value instead of one per entry. The
/// matchers it covers are left out of `specs`. The automaton is built on
/// first use, as most rules are never evaluated on a given input.
#[derive(Debug)]
pub(crate) struct AnyContains {
    /// The lower-cased needles (also used by the pre-filter index).
    pub(crate) literals: Vec<String>,
    automaton: OnceLock<AhoCorasick>,
}

impl AnyContains {
    pub(crate) fn new(literals: Vec<String>) -> Self {
        AnyContains {
            literals,
            automaton: OnceLock::new(),
        }
    }

    /// Whether lower-cased text contains one of the needles.
    pub(crate) fn is_match(&self, lower: &str) -> bool {
        self.automaton
            .get_or_init(|| {
                // A contiguous NFA builds far faster than a DFA, and for a few
                // dozen needles its SIMD prefilter does most of the search.
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&self.literals)
                    .expect("contains lists stay far below aho-corasick's size limits")
            })
            .is_match(lower)
    }
}

/// How a `fieldref` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefHow {
    Equal,
    Contains,
    StartsWith,
    EndsWith,
}

/// A test of one value.
#[derive(Debug)]
pub(crate) enum Matcher {
    /// A Sigma string; case-insensitive ones look at the lower-cased text.
    Str { matcher: StrMatcher, cased: bool },
    /// `re`: searched in the original text; with the literals one of which
    /// any match contains (lower-cased), when there are such.
    Regex(LazyRegex, Option<Vec<String>>),
    /// `cidr`.
    Cidr(IpNet),
    /// `lt`, `lte`, `gt`, `gte` on the value as a number.
    Cmp(CmpOp, f64),
    /// A time modifier: the part of the value read as a date, compared.
    TimePart(TimePart, CmpOp, f64),
}

/// A regular expression compiled on first use. Most rules are never
/// evaluated on a given input, and compiling all of SigmaHQ's expressions up
/// front was a large part of start-up. The syntax is checked when the rule
/// compiles; `gsoc rules check` also builds every automaton.
#[derive(Debug)]
pub(crate) struct LazyRegex {
    pattern: String,
    flags: RegexFlags,
    compiled: OnceLock<Option<Regex>>,
}

/// The `re` sub-modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RegexFlags {
    pub(crate) ignore_case: bool,
    pub(crate) multi_line: bool,
    pub(crate) dot_all: bool,
}

impl LazyRegex {
    /// A regex to be compiled when first used.
    pub(crate) fn new(pattern: String, flags: RegexFlags) -> Self {
        LazyRegex {
            pattern,
            flags,
            compiled: OnceLock::new(),
        }
    }

    /// Compiles now; the error says why it cannot be.
    pub(crate) fn compile_now(&self) -> Result<(), String> {
        if let Some(Some(_)) = self.compiled.get() {
            return Ok(());
        }
        let regex = self.build().map_err(|e| e.to_string())?;
        let _ = self.compiled.set(Some(regex));
        Ok(())
    }

    fn build(&self) -> Result<Regex, regex::Error> {
        RegexBuilder::new(&self.pattern)
            .case_insensitive(self.flags.ignore_case)
            .multi_line(self.flags.multi_line)
            .dot_matches_new_line(self.flags.dot_all)
            .size_limit(1 << 24)
            .build()
    }

    /// Whether the text matches. An expression whose syntax was valid but
    /// which exceeds the compiled-size limit matches nothing.
    #[inline]
    fn is_match(&self, text: &str) -> bool {
        self.compiled
            .get_or_init(|| self.build().ok())
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl CmpOp {
    pub(crate) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Eq => left == right,
            CmpOp::Lt => left < right,
            CmpOp::Lte => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Gte => left >= right,
        }
    }
}

impl Matcher {
    /// Tests one value given its original and lower-cased text.
    #[inline]
    pub(crate) fn is_match(&self, original: &str, lower: &str) -> bool {
        match self {
            Matcher::Str {
                matcher,
                cased: false,
            } => matcher.is_match(lower),
            Matcher::Str {
                matcher,
                cased: true,
            } => matcher.is_match(original),
            Matcher::Regex(re, _) => re.is_match(original),
            Matcher::Cidr(net) => parse_ip(original).is_some_and(|ip| net.contains(&ip)),
            Matcher::Cmp(op, right) => {
                parse_number(original).is_some_and(|left| op.holds(left, *right))
            }
            Matcher::TimePart(part, op, right) => {
                time_part(original, *part).is_some_and(|left| op.holds(f64::from(left), *right))
            }
        }
    }
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = text.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// Reads a number: decimal, or hexadecimal with `0x` (Windows writes many
/// numbers that way).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|n| n as f64);
    }
    text.parse().ok()
}

fn time_part(text: &str, part: TimePart) -> Option<i32> {
    let text = text.trim();
    let date = text
        .parse::<jiff::Timestamp>()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).datetime())
        .or_else(|_| text.parse::<jiff::civil::DateTime>())
        .or_else(|_| text.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>())
        .ok()?;
    Some(match part {
        TimePart::Minute => i32::from(date.minute()),
        TimePart::Hour => i32::from(date.hour()),
        TimePart::Day => i32::from(date.day()),
        TimePart::Week => i32::from(date.date().iso_week_date().week()),
        TimePart::Month => i32::from(date.month()),
        TimePart::Year => i32::from(date.year()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_ip("::ffff:10.1.2.3"), "10.1.2.3".parse().ok());
        let net: IpNet = "10.0.0.0/8".parse().expect("valid cidr");
        assert!(Matcher::Cidr(net).is_match("10.9.9.9", ""));
        assert!(!Matcher::Cidr("10.0.0.0/8".parse().expect("valid")).is_match("not an ip", ""));
    }

    #[test]
    fn time_parts() {
        assert_eq!(time_part("2024-03-05T22:10:00Z", TimePart::Hour), Some(22));
        assert_eq!(
            time_part("2024-03-05 22:10:00.123", TimePart::Minute),
            Some(10)
        );
        assert_eq!(time_part("2024-03-05T00:00:00Z", TimePart::Week), Some(10));
        assert_eq!(time_part("garbage", TimePart::Year), None);
    }
}
