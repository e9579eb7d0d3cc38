//! The Sigma condition language: `selection and not 1 of filter_*`.
//!
//! Precedence, loosest first: `or`, `and`, `not`, `x of`, parentheses.

use std::fmt;

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// A search identifier.
    Ref(String),
    /// `1 of selection_*`, `all of them`.
    Of(Quantifier, OfTarget),
    /// Negation.
    Not(Box<Cond>),
    /// Every operand holds.
    And(Vec<Cond>),
    /// At least one operand holds.
    Or(Vec<Cond>),
}

/// How many search identifiers an `of` expression needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// `all of`.
    All,
    /// `N of` (`1 of`, `any of`).
    AtLeast(usize),
}

/// What an `of` expression ranges over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfTarget {
    /// Every search identifier not starting with `_`.
    Them,
    /// Identifiers matching a pattern with `*` wildcards.
    Pattern(String),
}

/// A condition that does not parse: the message and the byte offset in the
/// condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondError {
    /// Byte offset in the condition string.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// True when the condition uses the obsolete aggregation syntax.
    pub aggregation: bool,
}

impl fmt::Display for CondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    Them,
    All,
    Any,
    Number(usize),
    Ident(String),
    Pipe,
}

/// Parses a condition string.
pub fn parse(text: &str) -> Result<Cond, CondError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        text_len: text.len(),
    };
    let cond = parser.or_expr()?;
    match parser.peek() {
        None => Ok(cond),
        Some((offset, token)) => Err(error(
            *offset,
            format!("unexpected {} after the condition", describe(token)),
        )),
    }
}

fn error(offset: usize, message: String) -> CondError {
    CondError {
        offset,
        message,
        aggregation: false,
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, CondError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let token = match c {
            b'(' => Token::Open,
            b')' => Token::Close,
            b'|' => Token::Pipe,
            _ => {
                let start = i;
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !matches!(bytes[i], b'(' | b')' | b'|')
                {
                    i += 1;
                }
                tokens.push((start, word(&text[start..i])));
                continue;
            }
        };
        tokens.push((i, token));
        i += 1;
    }
    if let Some((offset, _)) = tokens.iter().find(|(_, t)| *t == Token::Pipe) {
        return Err(CondError {
            offset: *offset,
            message: "aggregation in the condition ('| count() …') was removed from Sigma; write a correlation rule instead"
                .into(),
            aggregation: true,
        });
    }
    Ok(tokens)
}

fn word(w: &str) -> Token {
    match w.to_ascii_lowercase().as_str() {
        "and" => Token::And,
        "or" => Token::Or,
        "not" => Token::Not,
        "of" => Token::Of,
        "them" => Token::Them,
        "all" => Token::All,
        "any" => Token::Any,
        _ => match w.parse() {
            Ok(n) => Token::Number(n),
            Err(_) => Token::Ident(w.to_owned()),
        },
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::And => "'and'".into(),
        Token::Or => "'or'".into(),
        Token::Not => "'not'".into(),
        Token::Of => "'of'".into(),
        Token::Them => "'them'".into(),
        Token::All => "'all'".into(),
        Token::Any => "'any'".into(),
        Token::Number(n) => format!("number {n}"),
        Token::Ident(s) => format!("'{s}'"),
        Token::Pipe => "'|'".into(),
    }
}

struct Parser<'t> {
    tokens: &'t [(usize, Token)],
    at: usize,
    text_len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&(usize, Token)> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&(usize, Token)> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek().map(|(_, t)| t) == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self) -> Result<Cond, CondError> {
        let mut operands = vec![self.and_expr()?];
        while self.eat(&Token::Or) {
            operands.push(self.and_expr()?);
        }
        Ok(collapse(operands, Cond::Or))
    }

    fn and_expr(&mut self) -> Result<Cond, CondError> {
        let mut operands = vec![self.not_expr()?];
        while self.eat(&Token::And) {
            operands.push(self.not_expr()?);
        }
        Ok(collapse(operands, Cond::And))
    }

    fn not_expr(&mut self) -> Result<Cond, CondError> {
        if self.eat(&Token::Not) {
            return Ok(Cond::Not(Box::new(self.not_expr()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, CondError> {
        let end = self.text_len;
        let Some((offset, token)) = self.next().cloned() else {
            return Err(error(
                end,
                "the condition ends where an identifier or '(' was expected".into(),
            ));
        };
        match token {
            Token::Open => {
                let inner = self.or_expr()?;
                if !self.eat(&Token::Close) {
                    let at = self.peek().map_or(end, |(o, _)| *o);
                    return Err(error(
                        at,
                        format!("missing ')' for the '(' at offset {offset}"),
                    ));
                }
                Ok(inner)
            }
            Token::All => self.of(Quantifier::All, offset),
            Token::Any => self.of(Quantifier::AtLeast(1), offset),
            Token::Number(0) => Err(error(offset, "'0 of' never matches; use 'not 1 of'".into())),
            Token::Number(n) => self.of(Quantifier::AtLeast(n), offset),
            Token::Ident(name) => Ok(Cond::Ref(name)),
            other => Err(error(
                offset,
                format!(
                    "unexpected {} where an identifier or '(' was expected",
                    describe(&other)
                ),
            )),
        }
    }

    fn of(&mut self, quantifier: Quantifier, offset: usize) -> Result<Cond, CondError> {
        if !self.eat(&Token::Of) {
            return Err(error(
                offset,
                "a quantifier must be followed by 'of'".into(),
            ));
        }
        let end = self.text_len;
        match self.next().cloned() {
            Some((_, Token::Them)) => Ok(Cond::Of(quantifier, OfTarget::Them)),
            Some((_, Token::Ident(pattern))) => {
                Ok(Cond::Of(quantifier, OfTarget::Pattern(pattern)))
            }
            Some((at, other)) => Err(error(
                at,
                format!(
                    "expected 'them' or a pattern after 'of', found {}",
                    describe(&other)
                ),
            )),
            None => Err(error(end, "expected 'them' or a pattern after 'of'".into())),
        }
    }
}

fn collapse(mut operands: Vec<Cond>, make: fn(Vec<Cond>) -> Cond) -> Cond {
    if operands.len() == 1 {
        operands.pop().expect("length checked")
    } else {
        make(operands)
    }
}

/// Whether a search identifier matches an `of` pattern (`*` matches any run
/// of characters).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str) -> Cond {
        Cond::Ref(name.into())
    }

    #[test]
    fn precedence() {
        let c = parse("a or b and not c").expect("parses");
        assert_eq!(
            c,
            Cond::Or(vec![
                r("a"),
                Cond::And(vec![r("b"), Cond::Not(Box::new(r("c")))])
            ])
        );
    }

    #[test]
    fn quantifiers_and_parentheses() {
        let c = parse("all of selection_* and not (1 of filter_* or them_x)").expect("parses");
        assert_eq!(
            c,
            Cond::And(vec![
                Cond::Of(Quantifier::All, OfTarget::Pattern("selection_*".into())),
                Cond::Not(Box::new(Cond::Or(vec![
                    Cond::Of(Quantifier::AtLeast(1), OfTarget::Pattern("filter_*".into())),
                    r("them_x"),
                ]))),
            ])
        );
        assert_eq!(
            parse("1 of them"),
            Ok(Cond::Of(Quantifier::AtLeast(1), OfTarget::Them))
        );
        assert_eq!(
            parse("any of sel*"),
            Ok(Cond::Of(
                Quantifier::AtLeast(1),
                OfTarget::Pattern("sel*".into())
            ))
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("selection and").expect_err("dangling and");
        assert_eq!(e.offset, 13);
        let e = parse("(a or b").expect_err("unclosed");
        assert!(e.message.contains("missing ')'"));
        let e = parse("selection | count() > 5").expect_err("aggregation");
        assert!(e.aggregation);
        assert!(parse("a b").is_err());
        assert!(parse("1 of").is_err());
    }

    #[test]
    fn wildcard_patterns() {
        assert!(pattern_matches("selection_*", "selection_img"));
        assert!(pattern_matches("sel*img", "selection_img"));
        assert!(pattern_matches("*", "x"));
        assert!(!pattern_matches("filter_*", "selection"));
        assert!(pattern_matches("a*b*c", "aXbYc"));
        assert!(!pattern_matches("a*b*c", "acb"));
    }
}
