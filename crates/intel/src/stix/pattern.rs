//! The STIX 2.1 patterning language: parsed, then turned into the terms the
//! matcher uses.
//!
//! Written by hand: the Rust STIX crates are young 0.1 releases carrying a
//! whole object model, and gsoc needs only the grammar, with positions in
//! its errors, turned into disjunctive normal form over the comparisons that
//! logs can answer.
//!
//! What matches: comparisons with `=`, `IN` and (for addresses) `ISSUBSET`
//! on `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value`,
//! `domain-name:resolves_to_refs[*].value`, `url:value`, `email-addr:value`,
//! `email-message:from_ref.value`, `email-message:{to,cc,bcc}_refs[*].value`,
//! `file:hashes.{MD5,SHA-1,SHA-256,SHA-512,IMPHASH}`, `file:name`,
//! `network-traffic:{src,dst}_ref.value`, `network-traffic:{src,dst}_port`,
//! the HTTP request extension's `User-Agent` header and
//! `network-traffic:x_ja3_md5`, joined with AND and OR.
//!
//! What does not, and is reported: other object paths (they do not narrow a
//! match), other operators and NOT, and what relates several observations
//! (AND and FOLLOWEDBY between observations, WITHIN, REPEATS, START/STOP):
//! each observation then matches on its own.

use std::fmt;
use std::net::IpAddr;

use crate::model::{Kind, Observable, Role, Term};
use crate::normalize;

/// The most terms one pattern may expand to.
const MAX_TERMS: usize = 1024;

/// A pattern that is not valid STIX patterning syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// The byte offset in the pattern.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for PatternError {}

/// A pattern turned into terms, with what could not be matched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Compiled {
    /// The terms, in disjunctive normal form. Empty when nothing in the
    /// pattern can be matched in logs.
    pub terms: Vec<Term>,
    /// One sentence for each feature of the pattern that is not matched.
    pub notes: Vec<String>,
}

/// Parses a STIX pattern and compiles it into terms.
pub fn compile(pattern: &str) -> Result<Compiled, PatternError> {
    let expr = Parser::new(pattern).parse()?;
    let mut notes = Vec::new();
    let terms = observation_terms(&expr, &mut notes)?;
    let mut terms: Vec<Term> = terms
        .into_iter()
        .filter(|term| term.iter().any(|o| o.kind.is_anchor()))
        .collect();
    terms.dedup();
    notes.sort();
    notes.dedup();
    Ok(Compiled { terms, notes })
}

/// An observation expression.
#[derive(Clone, Debug, PartialEq)]
enum Observation {
    /// `[ … ]`
    Comparison(Comparison),
    /// Observations joined by one operator.
    Join(ObservationOp, Vec<Observation>),
    /// An observation with a qualifier (named for the report).
    Qualified(Box<Observation>, &'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ObservationOp {
    And,
    Or,
    FollowedBy,
}

/// A comparison expression inside brackets.
#[derive(Clone, Debug, PartialEq)]
enum Comparison {
    Test(Test),
    And(Vec<Comparison>),
    Or(Vec<Comparison>),
}

/// One comparison of an object path with a literal.
#[derive(Clone, Debug, PartialEq)]
struct Test {
    object: String,
    path: Vec<Step>,
    negated: bool,
    operator: String,
    literal: Literal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Property(String),
    Index,
}

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
    List(Vec<Literal>),
    /// Floats, booleans, timestamps, hex and binary: parsed, never matched.
    Other(&'static str),
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, pos: 0 }
    }

    fn parse(mut self) -> Result<Observation, PatternError> {
        let expr = self.observation_or()?;
        self.skip_space();
        if self.pos < self.text.len() {
            return Err(self.error("unexpected text after the pattern"));
        }
        Ok(expr)
    }

    fn error(&self, message: impl Into<String>) -> PatternError {
        PatternError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Eats a keyword (case-insensitive, not followed by a word character).
    fn eat_keyword(&mut self, word: &str) -> bool {
        self.skip_space();
        let rest = self.rest();
        let matches = rest.len() >= word.len()
            && rest.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if matches {
            self.pos += word.len();
        }
        matches
    }

    fn expect(&mut self, token: &str) -> Result<(), PatternError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected '{token}'")))
        }
    }

    fn observation_or(&mut self) -> Result<Observation, PatternError> {
        self.observation_join(ObservationOp::Or, "OR", Self::observation_and)
    }

    fn observation_and(&mut self) -> Result<Observation, PatternError> {
        self.observation_join(ObservationOp::And, "AND", Self::observation_followed)
    }

    fn observation_followed(&mut self) -> Result<Observation, PatternError> {
        self.observation_join(
            ObservationOp::FollowedBy,
            "FOLLOWEDBY",
            Self::observation_qualified,
        )
    }

    fn observation_join(
        &mut self,
        op: ObservationOp,
        keyword: &str,
        next: fn(&mut Self) -> Result<Observation, PatternError>,
    ) -> Result<Observation, PatternError> {
        let mut items = vec![next(self)?];
        while self.eat_keyword(keyword) {
            items.push(next(self)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Observation::Join(op, items)
        })
    }

    fn observation_qualified(&mut self) -> Result<Observation, PatternError> {
        let mut expr = self.observation_atom()?;
        loop {
            let qualifier = if self.eat_keyword("WITHIN") {
                self.number()?;
                self.expect_keyword("SECONDS")?;
                "WITHIN"
            } else if self.eat_keyword("REPEATS") {
                self.number()?;
                self.expect_keyword("TIMES")?;
                "REPEATS"
            } else if self.eat_keyword("START") {
                self.literal()?;
                self.expect_keyword("STOP")?;
                self.literal()?;
                "START/STOP"
            } else {
                return Ok(expr);
            };
            expr = Observation::Qualified(Box::new(expr), qualifier);
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), PatternError> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            Err(self.error(format!("expected {word}")))
        }
    }

    fn observation_atom(&mut self) -> Result<Observation, PatternError> {
        if self.eat("[") {
            let comparison = self.comparison_or()?;
            self.expect("]")?;
            Ok(Observation::Comparison(comparison))
        } else if self.eat("(") {
            let expr = self.observation_or()?;
            self.expect(")")?;
            Ok(expr)
        } else {
            Err(self.error("expected '[' to start an observation"))
        }
    }

    fn comparison_or(&mut self) -> Result<Comparison, PatternError> {
        let mut items = vec![self.comparison_and()?];
        while self.eat_keyword("OR") {
            items.push(self.comparison_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Comparison::Or(items)
        })
    }

    fn comparison_and(&mut self) -> Result<Comparison, PatternError> {
        let mut items = vec![self.comparison_atom()?];
        while self.eat_keyword("AND") {
            items.push(self.comparison_atom()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Comparison::And(items)
        })
    }

    fn comparison_atom(&mut self) -> Result<Comparison, PatternError> {
        if self.eat("(") {
            let inner = self.comparison_or()?;
            self.expect(")")?;
            return Ok(inner);
        }
        let (object, path) = self.object_path()?;
        let negated = self.eat_keyword("NOT");
        let operator = self.operator()?;
        let literal = self.literal()?;
        Ok(Comparison::Test(Test {
            object,
            path,
            negated,
            operator,
            literal,
        }))
    }

    fn object_path(&mut self) -> Result<(String, Vec<Step>), PatternError> {
        self.skip_space();
        let object = self.identifier(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if object.is_empty() {
            return Err(self.error("expected an object type such as ipv4-addr"));
        }
        self.expect(":")?;
        let mut path = vec![Step::Property(self.property()?)];
        loop {
            if self.rest().starts_with('.') {
                self.pos += 1;
                path.push(Step::Property(self.property()?));
            } else if self.rest().starts_with('[') {
                self.pos += 1;
                let index = self.identifier(|c| c.is_ascii_digit() || c == '*');
                if index.is_empty() {
                    return Err(self.error("expected a list index or '*'"));
                }
                self.expect("]")?;
                path.push(Step::Index);
            } else {
                return Ok((object.to_ascii_lowercase(), path));
            }
        }
    }

    fn property(&mut self) -> Result<String, PatternError> {
        if self.rest().starts_with('\'') {
            return self.string();
        }
        let name = self.identifier(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if name.is_empty() {
            Err(self.error("expected a property name"))
        } else {
            Ok(name.to_owned())
        }
    }

    fn identifier(&mut self, allowed: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| !allowed(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn operator(&mut self) -> Result<String, PatternError> {
        self.skip_space();
        for op in ["!=", "<>", ">=", "<=", "=", ">", "<"] {
            if self.eat(op) {
                return Ok(op.to_owned());
            }
        }
        for word in ["IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"] {
            if self.eat_keyword(word) {
                return Ok(word.to_owned());
            }
        }
        Err(self.error("expected a comparison operator (=, !=, IN, LIKE, MATCHES, …)"))
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        self.skip_space();
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string().map(Literal::Str);
        }
        if rest.starts_with('(') {
            self.pos += 1;
            let mut items = vec![self.literal()?];
            while self.eat(",") {
                items.push(self.literal()?);
            }
            self.expect(")")?;
            return Ok(Literal::List(items));
        }
        for (prefix, name) in [("t'", "timestamp"), ("h'", "hex"), ("b'", "binary")] {
            if rest.starts_with(prefix) {
                self.pos += 1;
                self.string()?;
                return Ok(Literal::Other(name));
            }
        }
        for word in ["true", "false"] {
            if self.eat_keyword(word) {
                return Ok(Literal::Other("boolean"));
            }
        }
        self.number()
    }

    fn number(&mut self) -> Result<Literal, PatternError> {
        self.skip_space();
        let text = self.identifier(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
        if let Ok(n) = text.parse::<i64>() {
            Ok(Literal::Int(n))
        } else if text.parse::<f64>().is_ok() {
            Ok(Literal::Other("float"))
        } else {
            Err(self.error("expected a value: a quoted string, a number or a list"))
        }
    }

    /// A single-quoted string with `\'` and `\\` escapes.
    fn string(&mut self) -> Result<String, PatternError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '\\'))) => out.push(e),
                    _ => {
                        self.pos += i;
                        return Err(self.error("only \\' and \\\\ may be escaped in a string"));
                    }
                },
                c => out.push(c),
            }
        }
        self.pos = start;
        Err(self.error("unterminated string"))
    }
}

fn observation_terms(
    expr: &Observation,
    notes: &mut Vec<String>,
) -> Result<Vec<Term>, PatternError> {
    match expr {
        Observation::Comparison(c) => comparison_terms(c, notes),
        Observation::Join(op, items) => {
            if *op != ObservationOp::Or {
                notes.push(format!(
                    "{} between observations is not evaluated across events; each observation matches on its own",
                    if *op == ObservationOp::And { "AND" } else { "FOLLOWEDBY" }
                ));
            }
            let mut terms = Vec::new();
            for item in items {
                terms.extend(observation_terms(item, notes)?);
            }
            Ok(terms)
        }
        Observation::Qualified(inner, qualifier) => {
            notes.push(format!(
                "the {qualifier} qualifier is not evaluated; the observation matches on its own"
            ));
            observation_terms(inner, notes)
        }
    }
}

fn comparison_terms(expr: &Comparison, notes: &mut Vec<String>) -> Result<Vec<Term>, PatternError> {
    match expr {
        Comparison::Test(test) => Ok(test_terms(test, notes)),
        Comparison::Or(items) => {
            let mut terms = Vec::new();
            for item in items {
                terms.extend(comparison_terms(item, notes)?);
            }
            Ok(terms)
        }
        Comparison::And(items) => {
            let mut product: Vec<Term> = vec![Vec::new()];
            for item in items {
                let alternatives = comparison_terms(item, notes)?;
                if product.len() * alternatives.len() > MAX_TERMS {
                    return Err(PatternError {
                        offset: 0,
                        message: format!("the pattern expands to more than {MAX_TERMS} terms"),
                    });
                }
                product = product
                    .iter()
                    .flat_map(|left| {
                        alternatives.iter().map(move |right| {
                            let mut term = left.clone();
                            term.extend(right.iter().cloned());
                            term
                        })
                    })
                    .collect();
            }
            Ok(product)
        }
    }
}

/// The terms of one comparison: one term per value (several for `IN`), an
/// empty term when the comparison does not narrow a match (it is then
/// dropped from its conjunction), or none when it cannot hold in any log.
fn test_terms(test: &Test, notes: &mut Vec<String>) -> Vec<Term> {
    let path = path_text(&test.object, &test.path);
    if is_type_check(test) {
        return vec![Vec::new()];
    }
    let Some((kind, role)) = observable_for(&test.object, &test.path) else {
        notes.push(format!("{path} is not matched in logs"));
        return vec![Vec::new()];
    };
    if test.negated {
        notes.push(format!("NOT on {path} is not matched"));
        return vec![Vec::new()];
    }
    let values: Vec<&Literal> = match (&*test.operator, &test.literal) {
        ("=", literal) => vec![literal],
        ("IN", Literal::List(items)) => items.iter().collect(),
        ("ISSUBSET", literal) if matches!(kind, Kind::Ipv4 | Kind::Ipv6) => vec![literal],
        (op, _) => {
            notes.push(format!("the {op} operator on {path} is not matched"));
            return vec![Vec::new()];
        }
    };
    let mut terms = Vec::new();
    for literal in values {
        match observable(kind, role, literal) {
            Ok(o) => terms.push(vec![o]),
            Err(reason) => notes.push(format!("{path}: {reason}")),
        }
    }
    terms
}

/// `network-traffic:dst_ref.type = 'ipv4-addr'` and the like: the value
/// beside it says as much.
fn is_type_check(test: &Test) -> bool {
    test.object == "network-traffic"
        && matches!(test.path.last(), Some(Step::Property(p)) if p == "type")
        && test.operator == "="
}

fn observable(kind: Kind, role: Role, literal: &Literal) -> Result<Observable, String> {
    let text = match literal {
        Literal::Str(s) => s.clone(),
        Literal::Int(n) => n.to_string(),
        Literal::List(_) => return Err("a list needs the IN operator".to_owned()),
        Literal::Other(what) => return Err(format!("a {what} value is not matched")),
    };
    let kind = match kind {
        Kind::Ipv4 | Kind::Ipv6 => address_kind(&text)?,
        other => other,
    };
    let value = normalize::value(kind, &text)?;
    Ok(Observable { kind, role, value })
}

/// An address comparison's kind: the address's family, a CIDR network, or
/// (for `network-traffic` references) a domain name.
fn address_kind(text: &str) -> Result<Kind, String> {
    if text.contains('/') {
        Ok(Kind::Cidr)
    } else {
        match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => Ok(Kind::Ipv4),
            Ok(IpAddr::V6(_)) => Ok(Kind::Ipv6),
            Err(_) if normalize::looks_like_domain(text) => Ok(Kind::Domain),
            Err(_) => Err(format!("'{text}' is not an IP address or network")),
        }
    }
}

fn property_names(path: &[Step]) -> Vec<&str> {
    path.iter()
        .map(|s| match s {
            Step::Property(p) => p.as_str(),
            Step::Index => "[]",
        })
        .collect()
}

/// What an object path compares, when logs can answer it.
fn observable_for(object: &str, path: &[Step]) -> Option<(Kind, Role)> {
    let names = property_names(path);
    let kind_role = match (object, names.as_slice()) {
        ("ipv4-addr", ["value"]) => (Kind::Ipv4, Role::Any),
        ("ipv6-addr", ["value"]) => (Kind::Ipv6, Role::Any),
        ("domain-name", ["value"]) => (Kind::Domain, Role::Any),
        ("domain-name", ["resolves_to_refs", "[]", "value"]) => (Kind::Ipv4, Role::Resolved),
        ("url", ["value"]) => (Kind::Url, Role::Any),
        ("email-addr", ["value"]) => (Kind::Email, Role::Any),
        ("email-message", ["from_ref" | "sender_ref", "value"]) => (Kind::Email, Role::Sender),
        ("email-message", ["to_refs" | "cc_refs" | "bcc_refs", "[]", "value"]) => {
            (Kind::Email, Role::Recipient)
        }
        ("file" | "artifact", ["hashes", algorithm]) => (hash_kind(algorithm)?, Role::Any),
        ("file", ["name"]) => (Kind::FileName, Role::Any),
        ("network-traffic", ["src_ref", "value"]) => (Kind::Ipv4, Role::Source),
        ("network-traffic", ["dst_ref", "value"]) => (Kind::Ipv4, Role::Destination),
        ("network-traffic", ["src_port"]) => (Kind::Port, Role::Source),
        ("network-traffic", ["dst_port"]) => (Kind::Port, Role::Destination),
        ("network-traffic", ["x_ja3_md5"]) => (Kind::Ja3, Role::Any),
        ("network-traffic", ["extensions", "http-request-ext", "request_header", header])
            if header.eq_ignore_ascii_case("user-agent") =>
        {
            (Kind::UserAgent, Role::Any)
        }
        _ => return None,
    };
    Some(kind_role)
}

/// The kind of a STIX hash algorithm name (`MD5`, `SHA-256`, `sha256`, …).
pub fn hash_kind(algorithm: &str) -> Option<Kind> {
    let name: String = algorithm
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    match name.as_str() {
        "MD5" => Some(Kind::Md5),
        "SHA1" => Some(Kind::Sha1),
        "SHA256" => Some(Kind::Sha256),
        "SHA512" => Some(Kind::Sha512),
        "IMPHASH" => Some(Kind::Imphash),
        _ => None,
    }
}

fn path_text(object: &str, path: &[Step]) -> String {
    let mut out = format!("{object}:");
    for (n, step) in path.iter().enumerate() {
        match step {
            Step::Property(p) if p.contains(['-', ' ', '.']) => {
                if n > 0 {
                    out.push('.');
                }
                out.push_str(&format!("'{p}'"));
            }
            Step::Property(p) => {
                if n > 0 {
                    out.push('.');
                }
                out.push_str(p);
            }
            Step::Index => out.push_str("[*]"),
        }
    }
    out
}

/// Writes terms as a STIX pattern: each term one observation, terms joined
/// with OR.
pub fn render(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|term| {
            let parts: Vec<String> = term.iter().map(render_observable).collect();
            format!("[{}]", parts.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn render_observable(o: &Observable) -> String {
    let value = quote(&o.value);
    let address_type = match o.kind {
        Kind::Ipv6 => "ipv6-addr",
        Kind::Cidr if o.value.contains(':') => "ipv6-addr",
        Kind::Domain => "domain-name",
        _ => "ipv4-addr",
    };
    match (o.kind, o.role) {
        (Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr | Kind::Domain, Role::Source | Role::Destination) => {
            let side = if o.role == Role::Source { "src" } else { "dst" };
            format!(
                "network-traffic:{side}_ref.type = '{address_type}' AND network-traffic:{side}_ref.value = {value}"
            )
        }
        (Kind::Ipv4 | Kind::Ipv6, Role::Resolved) => {
            format!("domain-name:resolves_to_refs[*].value = {value}")
        }
        (Kind::Ipv4 | Kind::Ipv6, _) => format!("{address_type}:value = {value}"),
        (Kind::Cidr, _) => format!("{address_type}:value ISSUBSET {value}"),
        (Kind::Domain, _) => format!("domain-name:value = {value}"),
        (Kind::Url, _) => format!("url:value = {}", quote(&url_with_scheme(&o.value))),
        (Kind::Email, Role::Sender) => format!("email-message:from_ref.value = {value}"),
        (Kind::Email, Role::Recipient) => format!("email-message:to_refs[*].value = {value}"),
        (Kind::Email, _) => format!("email-addr:value = {value}"),
        (Kind::Md5, _) => format!("file:hashes.MD5 = {value}"),
        (Kind::Sha1, _) => format!("file:hashes.'SHA-1' = {value}"),
        (Kind::Sha256, _) => format!("file:hashes.'SHA-256' = {value}"),
        (Kind::Sha512, _) => format!("file:hashes.'SHA-512' = {value}"),
        (Kind::Imphash, _) => format!("file:hashes.IMPHASH = {value}"),
        (Kind::Ja3, _) => format!("network-traffic:x_ja3_md5 = {value}"),
        (Kind::UserAgent, _) => format!(
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = {value}"
        ),
        (Kind::FileName, _) => format!("file:name = {value}"),
        (Kind::Port, Role::Source) => format!("network-traffic:src_port = {}", o.value),
        (Kind::Port, _) => format!("network-traffic:dst_port = {}", o.value),
    }
}

/// A URL value as STIX wants it: with a scheme (feeds often leave it out).
pub fn url_with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(pattern: &str) -> Vec<Term> {
        let compiled = compile(pattern).expect("valid pattern");
        compiled.terms
    }

    #[test]
    fn simple_comparisons() {
        assert_eq!(
            terms("[ipv4-addr:value = '198.51.100.1']"),
            vec![vec![Observable::new(Kind::Ipv4, "198.51.100.1")]]
        );
        assert_eq!(
            terms("[ipv4-addr:value = '58.246.0.0/15']"),
            vec![vec![Observable::new(Kind::Cidr, "58.246.0.0/15")]]
        );
        assert_eq!(
            terms(
                "[file:hashes.'SHA-256' = 'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']"
            ),
            vec![vec![Observable::new(
                Kind::Sha256,
                "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"
            )]]
        );
        assert_eq!(
            terms("[file:hashes.md5 = '00dbb9e1c09dbdafb360f3163ba5a3de']")[0][0].kind,
            Kind::Md5
        );
    }

    #[test]
    fn or_and_in_expand_to_terms() {
        let t = terms(
            "[domain-name:value = 'a.example' OR ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
        );
        assert_eq!(t.len(), 3);
        let t = terms(
            "[domain-name:value = 'circl.lu' AND domain-name:resolves_to_refs[*].value = '149.13.33.14']",
        );
        assert_eq!(
            t,
            vec![vec![
                Observable::new(Kind::Domain, "circl.lu"),
                Observable::new(Kind::Ipv4, "149.13.33.14").with_role(Role::Resolved),
            ]]
        );
        let t = terms(
            "[a:b = 'x' AND (url:value = 'http://x.example/a' OR url:value = 'http://y.example/')] OR [email-addr:value = 'A@B.example']",
        );
        assert_eq!(t.len(), 3);
        assert_eq!(t[2], vec![Observable::new(Kind::Email, "a@b.example")]);
    }

    #[test]
    fn network_traffic_as_misp_writes_it() {
        let t = terms(
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = '5678']",
        );
        assert_eq!(
            t,
            vec![vec![
                Observable::new(Kind::Ipv4, "5.6.7.8").with_role(Role::Destination),
                Observable::new(Kind::Port, "5678").with_role(Role::Destination),
            ]]
        );
    }

    #[test]
    fn unsupported_features_are_reported_not_matched() {
        let c = compile(r"[email-message:from_ref.value MATCHES '.+\\banking@g0thamnatl\\.com$']")
            .expect("valid");
        assert!(c.terms.is_empty());
        assert!(c.notes[0].contains("MATCHES"), "{:?}", c.notes);
        let c = compile(
            "[file:name = 'x.exe' AND file:hashes.MD5 = 'b2a5abfeef9e36964281a31e17b57c97'] WITHIN 300 SECONDS",
        )
        .expect("valid");
        assert_eq!(c.terms[0].len(), 2);
        assert!(c.notes[0].contains("WITHIN"));
        let c = compile("[mutex:name = 'MutexTest']").expect("valid");
        assert!(c.terms.is_empty());
        assert_eq!(c.notes, vec!["mutex:name is not matched in logs"]);
        let c = compile("[file:name = 'only-a-name.exe']").expect("valid");
        assert!(c.terms.is_empty(), "a file name alone is not an anchor");
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    #[test]
    fn syntax_errors_name_the_place() {
        let e = compile("[ipv4-addr:value = '1.2.3.4'").expect_err("unclosed");
        assert!(e.message.contains("']'"), "{e}");
        let e = compile("[ipv4-addr:value = '1.2.3.4]").expect_err("unterminated");
        assert_eq!(e.offset, 19);
        assert!(compile("ipv4-addr:value = '1.2.3.4'").is_err());
        assert!(compile("[ipv4-addr:value ~ '1.2.3.4']").is_err());
    }

    #[test]
    fn escapes_round_trip_through_render() {
        let pattern = r"[windows-registry-key:key = 'HKLM\\Software' OR url:value = 'http://x.example/it\'s']";
        let c = compile(pattern).expect("valid");
        assert_eq!(c.terms[0][0].value, "x.example/it's");
        let rendered = render(&c.terms);
        assert_eq!(compile(&rendered).expect("renders valid").terms, c.terms);
    }

    #[test]
    fn render_then_compile_is_identity() {
        let t = vec![
            vec![
                Observable::new(Kind::Ipv4, "192.0.2.1").with_role(Role::Destination),
                Observable::new(Kind::Port, "8080").with_role(Role::Destination),
            ],
            vec![Observable::new(Kind::Cidr, "2001:db8::/32")],
            vec![Observable::new(Kind::Email, "x@example.org").with_role(Role::Sender)],
            vec![Observable::new(
                Kind::Ja3,
                "e7d705a3286e19ea42f587b344ee6865",
            )],
            vec![Observable::new(Kind::UserAgent, "Evil/1.0")],
            vec![
                Observable::new(Kind::Sha1, "2920d5e6c579fce772e5506caf03af65579088bd"),
                Observable::new(Kind::FileName, "a.exe"),
            ],
        ];
        assert_eq!(compile(&render(&t)).expect("valid").terms, t);
    }
}
