//! A YAML tree that keeps what Sigma needs and generic YAML loaders lose:
//! every scalar's exact text (so `010` stays `010` and `no` stays `no`),
//! whether it was quoted, and where it stands in the file.
//!
//! Written on top of `saphyr-parser`'s event stream because no YAML crate
//! offers a tree with both the raw scalar text and positions.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a YAML file (1-based line and column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl From<Span> for Pos {
    fn from(span: Span) -> Self {
        Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        }
    }
}

/// One YAML node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: Kind,
    /// Where it starts.
    pub pos: Pos,
}

/// The three kinds of YAML node.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A scalar: its text and whether it was written without quotes.
    Scalar {
        /// The scalar's text after YAML unescaping.
        text: String,
        /// True for plain (unquoted) scalars, which may mean null, a boolean
        /// or a number.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is a plain scalar meaning null (`null`, `~` or empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items when this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// A scalar as a string, or each scalar of a sequence: how Sigma reads
    /// fields such as `tags` or `author` that may be either.
    pub fn strings(&self) -> Vec<String> {
        match &self.kind {
            Kind::Scalar { text, .. } => vec![text.clone()],
            Kind::Seq(items) => items
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect(),
            Kind::Map(_) => Vec::new(),
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What it said.
    pub message: String,
}

/// Parses every document of a YAML stream into trees.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            },
            message: e.info().to_owned(),
        })?;
        builder.push(event, span)?;
    }
    Ok(builder.documents)
}

/// Collects parser events into trees, resolving anchors and aliases.
#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    /// Open sequences and mappings, innermost last, with their anchor id.
    stack: Vec<(Node, usize)>,
    /// A mapping key waiting for its value, per open mapping.
    pending_keys: Vec<Option<Node>>,
    anchors: Vec<(usize, Node)>,
}

impl Builder {
    fn push(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let pos = Pos::from(span);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let node = Node {
                    kind: Kind::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    pos,
                };
                self.remember(anchor, &node);
                self.attach(node);
            }
            Event::SequenceStart(anchor, _) => self.open(Kind::Seq(Vec::new()), pos, anchor),
            Event::MappingStart(anchor, _) => self.open(Kind::Map(Vec::new()), pos, anchor),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| SyntaxError {
                        pos,
                        message: "alias refers to an unknown anchor".into(),
                    })?;
                self.attach(node);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
        Ok(())
    }

    fn open(&mut self, kind: Kind, pos: Pos, anchor: usize) {
        self.stack.push((Node { kind, pos }, anchor));
        self.pending_keys.push(None);
    }

    fn close(&mut self) {
        if let Some((node, anchor)) = self.stack.pop() {
            self.pending_keys.pop();
            self.remember(anchor, &node);
            self.attach(node);
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }

    fn attach(&mut self, node: Node) {
        let Some((parent, _)) = self.stack.last_mut() else {
            self.documents.push(node);
            return;
        };
        match &mut parent.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => {
                // The stack and pending_keys always have the same length.
                let pending = self
                    .pending_keys
                    .last_mut()
                    .expect("one pending slot per open node");
                match pending.take() {
                    Some(key) => entries.push((key, node)),
                    None => *pending = Some(node),
                }
            }
            Kind::Scalar { .. } => unreachable!("scalars are never pushed on the stack"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_raw_scalar_text_and_style() {
        let docs = parse_documents("a: 010\nb: no\nc: '0x10'\nd:\ne: ~\n").expect("valid yaml");
        let doc = &docs[0];
        assert_eq!(doc.get("a").and_then(Node::as_str), Some("010"));
        assert_eq!(doc.get("b").and_then(Node::as_str), Some("no"));
        assert!(matches!(
            doc.get("c").map(|n| &n.kind),
            Some(Kind::Scalar { plain: false, .. })
        ));
        assert!(doc.get("d").is_some_and(Node::is_null));
        assert!(doc.get("e").is_some_and(Node::is_null));
    }

    #[test]
    fn positions_and_documents() {
        let docs = parse_documents("a: 1\n---\nb:\n  - x\n  - y\n").expect("valid yaml");
        assert_eq!(docs.len(), 2);
        let b = docs[1].get("b").expect("b present");
        assert_eq!(b.as_seq().map(<[Node]>::len), Some(2));
        assert_eq!(b.as_seq().expect("seq")[1].pos, Pos { line: 5, col: 5 });
    }

    #[test]
    fn aliases_resolve() {
        let docs = parse_documents("a: &x [1, 2]\nb: *x\n").expect("valid yaml");
        assert_eq!(
            docs[0].get("b").and_then(Node::as_seq).map(<[Node]>::len),
            Some(2)
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_documents("a: [1, 2\nb: c\n").expect_err("unclosed flow sequence");
        assert!(err.pos.line >= 1);
        assert!(!err.message.is_empty());
    }
}
