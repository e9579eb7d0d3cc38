//! Sigma documents as written: detection rules, meta filters and
//! correlation rules, parsed from YAML trees but not yet compiled.

use gsoc_event::Level;

use crate::condition::{self, Cond};
use crate::error::{Error, ErrorKind};
use crate::modifier::Modifier;
use crate::yaml::{Kind, Node, Pos};

/// One document of a rule file.
#[derive(Clone, Debug)]
pub enum Document {
    /// A detection rule.
    Rule(Rule),
    /// A meta filter (`filter:`), applied to other rules.
    Filter(Filter),
    /// A correlation rule (`correlation:`).
    Correlation(Correlation),
}

/// What every rule carries besides its logic.
#[derive(Clone, Debug)]
pub struct Meta {
    /// `id`.
    pub id: Option<String>,
    /// `name`, used by correlations.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status`.
    pub status: String,
    /// `level` (medium when absent).
    pub level: Level,
    /// `author`, kept exactly: the Detection Rule License requires it.
    pub author: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `description`.
    pub description: String,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// The file the rule came from.
    pub path: String,
}

/// A rule's `logsource`, lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogSourceSpec {
    /// `category`.
    pub category: Option<String>,
    /// `product`.
    pub product: Option<String>,
    /// `service`.
    pub service: Option<String>,
}

/// A detection rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Metadata.
    pub meta: Meta,
    /// Where it applies.
    pub logsource: LogSourceSpec,
    /// What it looks for.
    pub detection: Detection,
}

/// The `detection` section.
#[derive(Clone, Debug, Default)]
pub struct Detection {
    /// The search identifiers in file order.
    pub searches: Vec<Search>,
    /// The conditions (several are OR-ed), each with its position.
    pub conditions: Vec<(Cond, Pos)>,
}

/// One search identifier.
#[derive(Clone, Debug)]
pub struct Search {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub pos: Pos,
    /// Alternatives (OR-ed); each is a list of items that must all hold.
    pub alternatives: Vec<Vec<Item>>,
}

/// One `field|modifiers: values` item, or a keyword list (no field).
#[derive(Clone, Debug)]
pub struct Item {
    /// The field; `None` for keyword search over the whole event.
    pub field: Option<String>,
    /// Modifiers in the order written.
    pub modifiers: Vec<Modifier>,
    /// The values (OR-ed unless `all`).
    pub values: Vec<RawValue>,
    /// Where the item is.
    pub pos: Pos,
}

/// A value as written in a rule. Numbers and booleans keep their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawValue {
    /// A string (quoted, or plain but not a number, boolean or null).
    Str(String),
    /// A plain scalar that reads as a number.
    Num(String),
    /// A plain `true` or `false`.
    Bool(bool),
    /// A plain `null`, `~` or empty scalar.
    Null,
}

/// A meta filter: extra conditions ANDed to the rules it names.
#[derive(Clone, Debug)]
pub struct Filter {
    /// Metadata (only id, title and path matter).
    pub meta: Meta,
    /// The log source the filter applies to.
    pub logsource: LogSourceSpec,
    /// The rules (ids or names) it applies to; empty means every rule with a
    /// matching log source (`rules: any`).
    pub rules: Vec<String>,
    /// The filter's selections and its condition.
    pub detection: Detection,
}

/// The kinds of correlation the Sigma specification defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
}

/// A correlation rule. Parsed and checked now; evaluated by the triage stage.
#[derive(Clone, Debug)]
pub struct Correlation {
    /// Metadata.
    pub meta: Meta,
    /// The correlation type.
    pub kind: CorrelationType,
    /// The rules (ids or names) it correlates.
    pub rules: Vec<String>,
    /// `group-by` fields.
    pub group_by: Vec<String>,
    /// `timespan` in seconds.
    pub timespan_secs: u64,
    /// The condition as (operator, number) pairs, e.g. `("gte", 100.0)`.
    pub condition: Vec<(String, f64)>,
    /// The `field` of value-based conditions.
    pub condition_field: Option<String>,
    /// `aliases`: alias → (rule name → field).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// `generate`: whether the referenced rules also report on their own.
    pub generate: bool,
}

/// Parses one YAML document of a rule file.
pub fn parse_document(doc: &Node) -> Result<Document, Error> {
    if doc.as_map().is_none() {
        return Err(Error::at(
            ErrorKind::Structure,
            doc.pos,
            "a Sigma document must be a mapping",
        ));
    }
    let meta = parse_meta(doc)?;
    if let Some(correlation) = doc.get("correlation") {
        return parse_correlation(meta, correlation).map(Document::Correlation);
    }
    if let Some(filter) = doc.get("filter") {
        return parse_filter(meta, doc, filter).map(Document::Filter);
    }
    if doc.get("action").and_then(Node::as_str).is_some() {
        return Err(Error::at(
            ErrorKind::Unsupported,
            doc.pos,
            "'action: global/reset/repeat' rule collections were removed in Sigma 2.0; split the file into complete rules",
        ));
    }
    let logsource = parse_logsource(required(doc, "logsource")?)?;
    let detection = parse_detection(required(doc, "detection")?, true)?;
    Ok(Document::Rule(Rule {
        meta,
        logsource,
        detection,
    }))
}

fn required<'a>(doc: &'a Node, key: &str) -> Result<&'a Node, Error> {
    doc.get(key).ok_or_else(|| {
        Error::at(
            ErrorKind::Structure,
            doc.pos,
            format!("missing required key '{key}'"),
        )
    })
}

fn text(doc: &Node, key: &str) -> Option<String> {
    doc.get(key).and_then(Node::as_str).map(str::to_owned)
}

fn parse_meta(doc: &Node) -> Result<Meta, Error> {
    let title = text(doc, "title").ok_or_else(|| {
        Error::at(
            ErrorKind::Structure,
            doc.pos,
            "missing required key 'title'",
        )
    })?;
    let level = match doc.get("level") {
        Some(node) => node
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|e: String| Error::at(ErrorKind::Structure, node.pos, e))?,
        None => Level::Medium,
    };
    let list = |key| doc.get(key).map(Node::strings).unwrap_or_default();
    Ok(Meta {
        id: text(doc, "id"),
        name: text(doc, "name"),
        title,
        status: text(doc, "status").unwrap_or_default(),
        level,
        author: list("author").join(", "),
        tags: list("tags"),
        description: text(doc, "description").unwrap_or_default(),
        references: list("references"),
        falsepositives: list("falsepositives"),
        date: text(doc, "date"),
        modified: text(doc, "modified"),
        path: String::new(),
    })
}

/// Parses a `logsource` mapping.
pub fn parse_logsource(node: &Node) -> Result<LogSourceSpec, Error> {
    if node.as_map().is_none() {
        return Err(Error::at(
            ErrorKind::Structure,
            node.pos,
            "'logsource' must be a mapping",
        ));
    }
    let field = |key| {
        text(node, key)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    Ok(LogSourceSpec {
        category: field("category"),
        product: field("product"),
        service: field("service"),
    })
}

/// Parses a `detection` section (or a filter's `filter` section, which has
/// no `condition` requirement beyond one string and also holds `rules`).
fn parse_detection(node: &Node, is_rule: bool) -> Result<Detection, Error> {
    let Some(entries) = node.as_map() else {
        return Err(Error::at(
            ErrorKind::Structure,
            node.pos,
            "'detection' must be a mapping",
        ));
    };
    let mut detection = Detection::default();
    for (key, value) in entries {
        let name = key.as_str().ok_or_else(|| {
            Error::at(
                ErrorKind::Structure,
                key.pos,
                "search identifiers must be strings",
            )
        })?;
        match name {
            "condition" => detection.conditions = parse_conditions(value)?,
            "timeframe" => {
                return Err(Error::at(
                    ErrorKind::Unsupported,
                    key.pos,
                    "'timeframe' belongs to the removed aggregation syntax; write a correlation rule instead",
                ));
            }
            "rules" if !is_rule => {}
            _ => detection.searches.push(parse_search(name, value)?),
        }
    }
    if detection.conditions.is_empty() {
        return Err(Error::at(
            ErrorKind::Structure,
            node.pos,
            "missing required key 'condition'",
        ));
    }
    check_references(&detection)?;
    Ok(detection)
}

fn parse_conditions(node: &Node) -> Result<Vec<(Cond, Pos)>, Error> {
    let nodes: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    nodes
        .into_iter()
        .map(|n| {
            let text = n.as_str().ok_or_else(|| {
                Error::at(ErrorKind::Structure, n.pos, "a condition must be a string")
            })?;
            condition::parse(text).map(|c| (c, n.pos)).map_err(|e| {
                let kind = if e.aggregation {
                    ErrorKind::Unsupported
                } else {
                    ErrorKind::Condition
                };
                let pos = Pos {
                    line: n.pos.line,
                    col: n.pos.col + e.offset,
                };
                Error::at(kind, pos, format!("condition: {}", e.message))
            })
        })
        .collect()
}

fn check_references(detection: &Detection) -> Result<(), Error> {
    for (cond, pos) in &detection.conditions {
        let mut missing = None;
        visit_refs(cond, &mut |name| {
            if missing.is_none() && !detection.searches.iter().any(|s| s.name == name) {
                missing = Some(name.to_owned());
            }
        });
        if let Some(name) = missing {
            return Err(Error::at(
                ErrorKind::Condition,
                *pos,
                format!("condition names '{name}', which is not a search identifier of this rule"),
            ));
        }
    }
    Ok(())
}

fn visit_refs(cond: &Cond, f: &mut impl FnMut(&str)) {
    match cond {
        Cond::Ref(name) => f(name),
        Cond::Of(..) => {}
        Cond::Not(inner) => visit_refs(inner, f),
        Cond::And(items) | Cond::Or(items) => items.iter().for_each(|c| visit_refs(c, f)),
    }
}

fn parse_search(name: &str, node: &Node) -> Result<Search, Error> {
    let alternatives = match &node.kind {
        Kind::Map(entries) => vec![parse_map(entries)?],
        Kind::Seq(items) if items.iter().all(|i| i.as_map().is_some()) && !items.is_empty() => {
            items
                .iter()
                .map(|i| parse_map(i.as_map().expect("checked to be a map")))
                .collect::<Result<_, _>>()?
        }
        Kind::Seq(items) => {
            if let Some(bad) = items
                .iter()
                .find(|i| i.as_map().is_some() || i.as_seq().is_some())
            {
                return Err(Error::at(
                    ErrorKind::Structure,
                    bad.pos,
                    format!("search '{name}' mixes keywords with maps or nested lists"),
                ));
            }
            vec![vec![Item {
                field: None,
                modifiers: Vec::new(),
                values: items.iter().map(raw_value).collect(),
                pos: node.pos,
            }]]
        }
        Kind::Scalar { .. } => vec![vec![Item {
            field: None,
            modifiers: Vec::new(),
            values: vec![raw_value(node)],
            pos: node.pos,
        }]],
    };
    if alternatives.iter().any(Vec::is_empty) {
        return Err(Error::at(
            ErrorKind::Structure,
            node.pos,
            format!("search '{name}' is empty"),
        ));
    }
    Ok(Search {
        name: name.to_owned(),
        pos: node.pos,
        alternatives,
    })
}

fn parse_map(entries: &[(Node, Node)]) -> Result<Vec<Item>, Error> {
    entries
        .iter()
        .map(|(key, value)| parse_item(key, value))
        .collect()
}

fn parse_item(key: &Node, value: &Node) -> Result<Item, Error> {
    let key_text = key
        .as_str()
        .ok_or_else(|| Error::at(ErrorKind::Structure, key.pos, "field names must be strings"))?;
    let mut parts = key_text.split('|');
    let field = parts.next().unwrap_or_default();
    let modifier_names: Vec<&str> = parts.collect();
    let modifiers = Modifier::parse_chain(&modifier_names)
        .map_err(|m| Error::at(ErrorKind::Modifier, key.pos, m))?;
    let values = match &value.kind {
        Kind::Seq(items) => {
            if let Some(bad) = items
                .iter()
                .find(|i| !matches!(i.kind, Kind::Scalar { .. }))
            {
                return Err(Error::at(
                    ErrorKind::Structure,
                    bad.pos,
                    format!("values of '{key_text}' must be scalars"),
                ));
            }
            items.iter().map(raw_value).collect()
        }
        Kind::Scalar { .. } => vec![raw_value(value)],
        Kind::Map(_) => {
            return Err(Error::at(
                ErrorKind::Structure,
                value.pos,
                format!("the value of '{key_text}' must be a scalar or a list, not a mapping"),
            ));
        }
    };
    Ok(Item {
        field: (!field.is_empty()).then(|| field.to_owned()),
        modifiers,
        values,
        pos: key.pos,
    })
}

fn raw_value(node: &Node) -> RawValue {
    let Kind::Scalar { text, plain } = &node.kind else {
        return RawValue::Null;
    };
    if !plain {
        return RawValue::Str(text.clone());
    }
    if node.is_null() {
        return RawValue::Null;
    }
    match text.as_str() {
        "true" | "True" | "TRUE" => RawValue::Bool(true),
        "false" | "False" | "FALSE" => RawValue::Bool(false),
        t if looks_numeric(t) => RawValue::Num(t.to_owned()),
        t => RawValue::Str(t.to_owned()),
    }
}

fn looks_numeric(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
}

fn parse_filter(meta: Meta, doc: &Node, filter: &Node) -> Result<Filter, Error> {
    let logsource = parse_logsource(required(doc, "logsource")?)?;
    let rules_node = filter.get("rules").ok_or_else(|| {
        Error::at(
            ErrorKind::Structure,
            filter.pos,
            "a filter needs 'rules' (rule ids or names, or 'any')",
        )
    })?;
    let rules = rules_node.strings();
    let rules =
        if rules.len() == 1 && matches!(rules[0].to_ascii_lowercase().as_str(), "any" | "all") {
            Vec::new()
        } else {
            rules
        };
    let detection = parse_detection(filter, false)?;
    Ok(Filter {
        meta,
        logsource,
        rules,
        detection,
    })
}

fn parse_correlation(meta: Meta, node: &Node) -> Result<Correlation, Error> {
    let kind_node = required(node, "type")?;
    let kind = match kind_node.as_str().unwrap_or_default() {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        "value_percentile" => CorrelationType::ValuePercentile,
        other => {
            return Err(Error::at(
                ErrorKind::Structure,
                kind_node.pos,
                format!("unknown correlation type '{other}'"),
            ));
        }
    };
    let rules = required(node, "rules")?.strings();
    let timespan_node = required(node, "timespan")?;
    let timespan_secs =
        parse_timespan(timespan_node.as_str().unwrap_or_default()).ok_or_else(|| {
            Error::at(
                ErrorKind::Value,
                timespan_node.pos,
                "timespan must be a number and s, m, h, d or w",
            )
        })?;
    let (condition, condition_field) = match node.get("condition") {
        Some(c) => parse_correlation_condition(c)?,
        None if matches!(
            kind,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        ) =>
        {
            (Vec::new(), None)
        }
        None => {
            return Err(Error::at(
                ErrorKind::Structure,
                node.pos,
                "missing required key 'condition'",
            ));
        }
    };
    let aliases = node
        .get("aliases")
        .and_then(Node::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(alias, map)| {
                    let per_rule = map
                        .as_map()?
                        .iter()
                        .filter_map(|(r, f)| Some((r.as_str()?.to_owned(), f.as_str()?.to_owned())))
                        .collect();
                    Some((alias.as_str()?.to_owned(), per_rule))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Correlation {
        meta,
        kind,
        rules,
        group_by: node.get("group-by").map(Node::strings).unwrap_or_default(),
        timespan_secs,
        condition,
        condition_field,
        aliases,
        generate: node.get("generate").and_then(Node::as_str) == Some("true"),
    })
}

type CorrelationCondition = (Vec<(String, f64)>, Option<String>);

fn parse_correlation_condition(node: &Node) -> Result<CorrelationCondition, Error> {
    let entries = node.as_map().ok_or_else(|| {
        Error::at(
            ErrorKind::Structure,
            node.pos,
            "a correlation condition must be a mapping",
        )
    })?;
    let mut ops = Vec::new();
    let mut field = None;
    for (key, value) in entries {
        let key_text = key.as_str().unwrap_or_default();
        let value_text = value.as_str().unwrap_or_default();
        match key_text {
            "field" => field = Some(value_text.to_owned()),
            "gt" | "gte" | "lt" | "lte" | "eq" | "neq" | "percentile" => {
                let number = value_text.parse().map_err(|_| {
                    Error::at(
                        ErrorKind::Value,
                        value.pos,
                        format!("'{key_text}' needs a number"),
                    )
                })?;
                ops.push((key_text.to_owned(), number));
            }
            other => {
                return Err(Error::at(
                    ErrorKind::Structure,
                    key.pos,
                    format!("unknown correlation condition '{other}'"),
                ));
            }
        }
    }
    Ok((ops, field))
}

/// Parses `90m`, `1h`, `2d` into seconds.
pub fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn doc(text: &str) -> Result<Document, Error> {
        parse_document(&parse_documents(text).expect("valid yaml")[0])
    }

    #[test]
    fn parses_a_rule() {
        let d = doc(
            "title: T\nid: x\nauthor: A\nlevel: high\nlogsource: {category: Process_Creation, product: windows}\n\
             detection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n    EventID: 010\n  kw:\n    - evil\n  condition: sel or kw\n",
        )
        .expect("valid rule");
        let Document::Rule(rule) = d else {
            panic!("expected a rule")
        };
        assert_eq!(rule.meta.level, Level::High);
        assert_eq!(rule.logsource.category.as_deref(), Some("process_creation"));
        let sel = &rule.detection.searches[0];
        assert_eq!(sel.alternatives[0][0].modifiers, vec![Modifier::EndsWith]);
        assert_eq!(
            sel.alternatives[0][1].values,
            vec![RawValue::Num("010".into())]
        );
        let kw = &rule.detection.searches[1];
        assert_eq!(kw.alternatives[0][0].field, None);
    }

    #[test]
    fn rejects_unknown_identifiers_with_position() {
        let err = doc("title: T\nlogsource: {product: x}\ndetection:\n  sel: {a: b}\n  condition: sel and filter\n")
            .expect_err("filter is not defined");
        assert_eq!(err.kind, ErrorKind::Condition);
        assert_eq!(err.pos.map(|p| p.line), Some(5));
        assert!(err.message.contains("'filter'"));
    }

    #[test]
    fn rejects_aggregations() {
        let err = doc("title: T\nlogsource: {product: x}\ndetection:\n  sel: {a: b}\n  condition: sel | count() > 5\n")
            .expect_err("aggregation");
        assert_eq!(err.kind, ErrorKind::Unsupported);
    }

    #[test]
    fn parses_filters_and_correlations() {
        let f = doc("title: F\nlogsource: {product: windows}\nfilter:\n  rules: [abc]\n  sel: {User|startswith: adm_}\n  condition: not sel\n")
            .expect("valid filter");
        assert!(matches!(f, Document::Filter(ref f) if f.rules == ["abc"]));
        let c = doc("title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 90m\n  condition: {gte: 10}\n")
            .expect("valid correlation");
        let Document::Correlation(c) = c else {
            panic!("expected a correlation")
        };
        assert_eq!(c.timespan_secs, 5400);
        assert_eq!(c.condition, vec![("gte".to_owned(), 10.0)]);
    }
}
