//! Turns parsed rules into [`Program`]s.

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use crate::condition::{Cond, OfTarget, Quantifier, pattern_matches};
use crate::error::{Error, ErrorKind};
use crate::literal;
use crate::modifier::Modifier;
use crate::pattern::SigmaStr;
use crate::pattern::StrMatcher;
use crate::program::{
    ANY_FIELD, AnyContains, Atom, CmpOp, Expr, FieldId, LazyRegex, Matcher, Pred, Program, RefHow,
    RegexFlags, Test, TimePart,
};
use crate::rule::{Detection, Item, RawValue, Search};
use crate::yaml::Pos;

/// Field names interned to [`FieldId`]s (see there for how names compare).
#[derive(Debug, Default)]
pub(crate) struct FieldTable {
    ids: FxHashMap<String, FieldId>,
    /// The names exactly as rules write them: events nearly always use the
    /// same spelling, so most lookups hit here without normalising.
    exact: FxHashMap<String, FieldId>,
}

impl FieldTable {
    /// The id of a name, interning it.
    pub(crate) fn intern(&mut self, name: &str) -> FieldId {
        let key = field_key(name);
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = FieldId::try_from(self.ids.len()).expect("fewer than 4 billion field names");
        self.ids.insert(key, id);
        self.exact.insert(name.to_owned(), id);
        id
    }

    /// The id of a name, if any rule uses it. `scratch` avoids an allocation
    /// per lookup.
    #[inline]
    pub(crate) fn lookup(&self, name: &str, scratch: &mut String) -> Option<FieldId> {
        if let Some(id) = self.exact.get(name) {
            return Some(*id);
        }
        scratch.clear();
        if name.contains(' ') {
            scratch.extend(name.chars().filter(|c| *c != ' '));
        } else {
            scratch.push_str(name);
        }
        scratch.make_ascii_lowercase();
        self.ids.get(scratch.as_str()).copied()
    }

    /// How many names there are.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

fn field_key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What compiling needs besides the rule.
pub(crate) struct Context<'a> {
    pub(crate) fields: &'a FieldTable,
    /// Rule field → event field renames of this variant.
    pub(crate) renames: &'a [(String, String)],
    pub(crate) placeholders: &'a (dyn Fn(&str) -> Option<Vec<String>> + Sync),
    /// Placeholders used without a value (collected for warnings).
    pub(crate) missing_placeholders: Vec<String>,
    /// Compile regular expressions now rather than on first use.
    pub(crate) eager_regex: bool,
}

impl Context<'_> {
    fn field(&mut self, name: &str) -> FieldId {
        let mut scratch = String::new();
        self.fields
            .lookup(rename(self.renames, name), &mut scratch)
            .expect("every field name is interned before compiling (see field_names)")
    }
}

/// A rule field's name under a rename table.
pub(crate) fn rename<'a>(renames: &'a [(String, String)], name: &'a str) -> &'a str {
    renames
        .iter()
        .find(|(from, _)| from == name)
        .map_or(name, |(_, to)| to.as_str())
}

/// Every field name a detection can look up: item fields and `fieldref`
/// targets. Interned before compiling so compiling needs no mutation.
pub(crate) fn field_names(detection: &Detection) -> impl Iterator<Item = &str> {
    detection
        .searches
        .iter()
        .flat_map(|s| s.alternatives.iter().flatten())
        .flat_map(|item| {
            let refs = item
                .modifiers
                .contains(&Modifier::FieldRef)
                .then_some(item.values.iter())
                .into_iter()
                .flatten()
                .filter_map(|v| match v {
                    RawValue::Str(s) => Some(s.as_str()),
                    _ => None,
                });
            item.field.as_deref().into_iter().chain(refs)
        })
}

/// Compiles a detection (plus the filters' detections, ANDed) into a
/// program.
pub(crate) fn compile(
    detection: &Detection,
    filters: &[&Detection],
    ctx: &mut Context<'_>,
) -> Result<Program, Error> {
    let mut preds = Vec::new();
    let mut exprs = vec![compile_detection(detection, &mut preds, ctx)?];
    for filter in filters {
        exprs.push(compile_detection(filter, &mut preds, ctx)?);
    }
    let expr = if exprs.len() == 1 {
        exprs.pop().expect("one expression")
    } else {
        Expr::And(exprs.into())
    };
    let required = required_atoms(&expr, &preds);
    Ok(Program {
        expr,
        preds,
        required,
    })
}

fn compile_detection(
    detection: &Detection,
    preds: &mut Vec<Pred>,
    ctx: &mut Context<'_>,
) -> Result<Expr, Error> {
    let mut searches = Vec::with_capacity(detection.searches.len());
    for search in &detection.searches {
        searches.push((search.name.as_str(), compile_search(search, preds, ctx)?));
    }
    let mut conditions = Vec::new();
    for (cond, pos) in &detection.conditions {
        conditions.push(compile_cond(cond, *pos, &searches)?);
    }
    Ok(if conditions.len() == 1 {
        conditions.pop().expect("one condition")
    } else {
        Expr::Or(conditions.into())
    })
}

fn compile_cond(cond: &Cond, pos: Pos, searches: &[(&str, Expr)]) -> Result<Expr, Error> {
    Ok(match cond {
        Cond::Ref(name) => searches
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .ok_or_else(|| {
                Error::at(
                    ErrorKind::Condition,
                    pos,
                    format!("unknown search identifier '{name}'"),
                )
            })?,
        Cond::Not(inner) => Expr::Not(Box::new(compile_cond(inner, pos, searches)?)),
        Cond::And(items) => Expr::And(compile_all(items, pos, searches)?),
        Cond::Or(items) => Expr::Or(compile_all(items, pos, searches)?),
        Cond::Of(quantifier, target) => {
            let chosen: Vec<Expr> = searches
                .iter()
                .filter(|(name, _)| match target {
                    OfTarget::Them => !name.starts_with('_'),
                    OfTarget::Pattern(p) => pattern_matches(p, name),
                })
                .map(|(_, e)| e.clone())
                .collect();
            if chosen.is_empty() {
                let what = match target {
                    OfTarget::Them => "them".to_owned(),
                    OfTarget::Pattern(p) => format!("'{p}'"),
                };
                return Err(Error::at(
                    ErrorKind::Condition,
                    pos,
                    format!("{what} matches no search identifier"),
                ));
            }
            match quantifier {
                Quantifier::All => Expr::And(chosen.into()),
                Quantifier::AtLeast(1) => Expr::Or(chosen.into()),
                Quantifier::AtLeast(n) => Expr::AtLeast(*n, chosen.into()),
            }
        }
    })
}

fn compile_all(items: &[Cond], pos: Pos, searches: &[(&str, Expr)]) -> Result<Box<[Expr]>, Error> {
    items
        .iter()
        .map(|c| compile_cond(c, pos, searches))
        .collect()
}

fn compile_search(
    search: &Search,
    preds: &mut Vec<Pred>,
    ctx: &mut Context<'_>,
) -> Result<Expr, Error> {
    let mut alternatives = Vec::with_capacity(search.alternatives.len());
    for items in &search.alternatives {
        let mut all = Vec::with_capacity(items.len());
        for item in items {
            all.push(compile_item(item, preds, ctx)?);
        }
        alternatives.push(if all.len() == 1 {
            all.pop().expect("one item")
        } else {
            Expr::And(all.into())
        });
    }
    Ok(if alternatives.len() == 1 {
        alternatives.pop().expect("one alternative")
    } else {
        Expr::Or(alternatives.into())
    })
}

fn push(preds: &mut Vec<Pred>, pred: Pred) -> Expr {
    preds.push(pred);
    Expr::Pred(u32::try_from(preds.len() - 1).expect("fewer than 4 billion predicates per rule"))
}

/// Modifiers that only change how the values are read.
struct Flags {
    all: bool,
    cased: bool,
    neq: bool,
    exists: bool,
    fieldref: bool,
    regex: Option<(bool, bool, bool)>,
    cidr: bool,
    cmp: Option<CmpOp>,
    time: Option<TimePart>,
}

impl Flags {
    fn from(modifiers: &[Modifier]) -> Flags {
        let has = |m| modifiers.contains(&m);
        let cmp = modifiers.iter().find_map(|m| match m {
            Modifier::Lt => Some(CmpOp::Lt),
            Modifier::Lte => Some(CmpOp::Lte),
            Modifier::Gt => Some(CmpOp::Gt),
            Modifier::Gte => Some(CmpOp::Gte),
            _ => None,
        });
        let time = modifiers.iter().find_map(|m| match m {
            Modifier::Minute => Some(TimePart::Minute),
            Modifier::Hour => Some(TimePart::Hour),
            Modifier::Day => Some(TimePart::Day),
            Modifier::Week => Some(TimePart::Week),
            Modifier::Month => Some(TimePart::Month),
            Modifier::Year => Some(TimePart::Year),
            _ => None,
        });
        Flags {
            all: has(Modifier::All),
            cased: has(Modifier::Cased),
            neq: has(Modifier::Neq),
            exists: has(Modifier::Exists),
            fieldref: has(Modifier::FieldRef),
            regex: has(Modifier::Re).then(|| {
                (
                    has(Modifier::ReIgnoreCase),
                    has(Modifier::ReMultiLine),
                    has(Modifier::ReDotAll),
                )
            }),
            cidr: has(Modifier::Cidr),
            cmp,
            time,
        }
    }
}

fn compile_item(item: &Item, preds: &mut Vec<Pred>, ctx: &mut Context<'_>) -> Result<Expr, Error> {
    let flags = Flags::from(&item.modifiers);
    let field = item.field.as_deref().map(|f| ctx.field(f));
    let err = |kind, message: String| Error::at(kind, item.pos, message);
    if flags.all && item.values.len() == 1 && field.is_some() {
        return Err(err(
            ErrorKind::Modifier,
            "'all' needs a list of values (the specification forbids it on a single value)".into(),
        ));
    }
    if flags.exists {
        let wanted = match item.values.as_slice() {
            [RawValue::Bool(b)] => *b,
            _ => return Err(err(ErrorKind::Value, "'exists' takes true or false".into())),
        };
        let field =
            field.ok_or_else(|| err(ErrorKind::Modifier, "'exists' needs a field".into()))?;
        return Ok(push(
            preds,
            Pred {
                field: Some(field),
                test: Test::Exists(wanted),
            },
        ));
    }
    if flags.fieldref {
        return compile_fieldref(item, &flags, field, preds, ctx);
    }
    let nulls = item.values.iter().filter(|v| **v == RawValue::Null).count();
    let mut parts = Vec::new();
    if nulls > 0 {
        let field =
            field.ok_or_else(|| err(ErrorKind::Value, "a keyword cannot be null".into()))?;
        parts.push(push(
            preds,
            Pred {
                field: Some(field),
                test: Test::Null,
            },
        ));
    }
    if nulls < item.values.len() {
        let test = compile_values(item, &flags, ctx)?;
        parts.push(push(preds, Pred { field, test }));
    }
    Ok(match parts.len() {
        1 => parts.pop().expect("one part"),
        _ if flags.all => Expr::And(parts.into()),
        _ => Expr::Or(parts.into()),
    })
}

fn compile_fieldref(
    item: &Item,
    flags: &Flags,
    field: Option<FieldId>,
    preds: &mut Vec<Pred>,
    ctx: &mut Context<'_>,
) -> Result<Expr, Error> {
    let field = field
        .ok_or_else(|| Error::at(ErrorKind::Modifier, item.pos, "'fieldref' needs a field"))?;
    let how = if item.modifiers.contains(&Modifier::Contains) {
        RefHow::Contains
    } else if item.modifiers.contains(&Modifier::StartsWith) {
        RefHow::StartsWith
    } else if item.modifiers.contains(&Modifier::EndsWith) {
        RefHow::EndsWith
    } else {
        RefHow::Equal
    };
    let mut parts = Vec::new();
    for value in &item.values {
        let RawValue::Str(other) = value else {
            return Err(Error::at(
                ErrorKind::Value,
                item.pos,
                "'fieldref' takes field names",
            ));
        };
        let other = ctx.field(other);
        let test = Test::FieldRef {
            other,
            how,
            neq: flags.neq,
            cased: flags.cased,
        };
        parts.push(push(
            preds,
            Pred {
                field: Some(field),
                test,
            },
        ));
    }
    Ok(match parts.len() {
        1 => parts.pop().expect("one part"),
        _ if flags.all => Expr::And(parts.into()),
        _ => Expr::Or(parts.into()),
    })
}

fn compile_values(item: &Item, flags: &Flags, ctx: &mut Context<'_>) -> Result<Test, Error> {
    let mut specs = Vec::new();
    for value in item.values.iter().filter(|v| **v != RawValue::Null) {
        specs.push(compile_value(item, value, flags, ctx)?);
    }
    if specs.iter().all(Vec::is_empty) {
        return Ok(Test::Never);
    }
    let any = if flags.all {
        None
    } else {
        take_contains(&mut specs)
    };
    Ok(Test::Values {
        specs,
        all: flags.all,
        neq: flags.neq,
        any,
    })
}

/// Moves the case-insensitive `contains` matchers of an OR-ed value list
/// into one automaton, when there are enough of them to be worth it.
fn take_contains(specs: &mut Vec<Vec<Matcher>>) -> Option<AnyContains> {
    const WORTH_IT: usize = 4;
    let is_contains = |m: &Matcher| {
        matches!(
            m,
            Matcher::Str {
                matcher: StrMatcher::Contains(_),
                cased: false
            }
        )
    };
    if specs.iter().flatten().filter(|m| is_contains(m)).count() < WORTH_IT {
        return None;
    }
    let mut needles = Vec::new();
    for spec in specs.iter_mut() {
        spec.retain(|m| match m {
            Matcher::Str {
                matcher: StrMatcher::Contains(f),
                cased: false,
            } => {
                needles.push(f.needle().to_vec());
                false
            }
            _ => true,
        });
    }
    specs.retain(|spec| !spec.is_empty());
    let literals = needles
        .into_iter()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .collect();
    Some(AnyContains::new(literals))
}

fn value_text(value: &RawValue) -> String {
    match value {
        RawValue::Str(s) | RawValue::Num(s) => s.clone(),
        RawValue::Bool(b) => b.to_string(),
        RawValue::Null => String::new(),
    }
}

fn compile_value(
    item: &Item,
    value: &RawValue,
    flags: &Flags,
    ctx: &mut Context<'_>,
) -> Result<Vec<Matcher>, Error> {
    let err = |kind, message: String| Error::at(kind, item.pos, message);
    let text = value_text(value);
    if let Some((ignore_case, multi_line, dot_all)) = flags.regex {
        let required = literal::analyze(&text, ignore_case, multi_line, dot_all).map_err(|e| {
            err(
                ErrorKind::Value,
                format!("invalid regular expression: {}", one_line(&e)),
            )
        })?;
        let flags = RegexFlags {
            ignore_case,
            multi_line,
            dot_all,
        };
        let regex = LazyRegex::new(text, flags);
        if ctx.eager_regex {
            regex.compile_now().map_err(|e| {
                err(
                    ErrorKind::Value,
                    format!("invalid regular expression: {}", one_line(&e)),
                )
            })?;
        }
        return Ok(vec![Matcher::Regex(regex, required)]);
    }
    if flags.cidr {
        let net: IpNet = text
            .trim()
            .parse()
            .or_else(|_| text.trim().parse::<std::net::IpAddr>().map(IpNet::from))
            .map_err(|_| err(ErrorKind::Value, format!("'{text}' is not a CIDR network")))?;
        return Ok(vec![Matcher::Cidr(net)]);
    }
    if flags.cmp.is_some() || flags.time.is_some() {
        let number: f64 = text
            .trim()
            .parse()
            .map_err(|_| err(ErrorKind::Value, format!("'{text}' is not a number")))?;
        let op = flags.cmp.unwrap_or(CmpOp::Eq);
        return Ok(vec![match flags.time {
            Some(part) => Matcher::TimePart(part, op, number),
            None => Matcher::Cmp(op, number),
        }]);
    }
    let start = match value {
        RawValue::Str(s) => SigmaStr::parse(s),
        _ => SigmaStr::literal(&text),
    };
    let keyword = item.field.is_none();
    let strings =
        transform(start, &item.modifiers, keyword, ctx).map_err(|m| err(ErrorKind::Modifier, m))?;
    Ok(strings
        .iter()
        .map(|s| Matcher::Str {
            matcher: s.compile(flags.cased),
            cased: flags.cased,
        })
        .collect())
}

/// Applies the transforming modifiers in the order written.
fn transform(
    start: SigmaStr,
    modifiers: &[Modifier],
    keyword: bool,
    ctx: &mut Context<'_>,
) -> Result<Vec<SigmaStr>, String> {
    let mut values = vec![start];
    for modifier in modifiers {
        values = match modifier {
            Modifier::Contains => values.into_iter().map(SigmaStr::contains).collect(),
            Modifier::StartsWith => values.into_iter().map(SigmaStr::ends_with_star).collect(),
            Modifier::EndsWith => values.into_iter().map(SigmaStr::starts_with_star).collect(),
            Modifier::Windash => values.iter().flat_map(SigmaStr::windash).collect(),
            Modifier::Base64 => values
                .iter()
                .map(SigmaStr::base64)
                .collect::<Result<_, _>>()?,
            Modifier::Base64Offset => values
                .iter()
                .map(SigmaStr::base64offset)
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
            Modifier::Utf16le | Modifier::Wide => values.iter().map(SigmaStr::utf16le).collect(),
            Modifier::Utf16be => values.iter().map(SigmaStr::utf16be).collect(),
            Modifier::Utf16 => values.iter().map(SigmaStr::utf16).collect(),
            Modifier::Expand => {
                let mut out = Vec::new();
                for value in &values {
                    let (expanded, missing) = value.expand(ctx.placeholders);
                    ctx.missing_placeholders.extend(missing);
                    out.extend(expanded);
                }
                out
            }
            _ => values,
        };
    }
    let explicit = modifiers.iter().any(|m| {
        matches!(
            m,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
        )
    });
    if keyword && !explicit {
        values = values.into_iter().map(SigmaStr::contains).collect();
    }
    Ok(values)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Works out a set of literals of which one must occur for `expr` to hold
/// (see [`Program::required`]).
fn required_atoms(expr: &Expr, preds: &[Pred]) -> Option<Vec<Atom>> {
    let mut atoms = required(expr, preds)?;
    atoms.sort();
    atoms.dedup();
    Some(atoms)
}

fn required(expr: &Expr, preds: &[Pred]) -> Option<Vec<Atom>> {
    match expr {
        Expr::Pred(i) => pred_atoms(&preds[*i as usize]),
        Expr::Not(_) => None,
        Expr::And(items) => items
            .iter()
            .filter_map(|e| required(e, preds))
            .min_by(|a, b| cost(a).total_cmp(&cost(b))),
        Expr::Or(items) | Expr::AtLeast(_, items) => {
            let mut all = Vec::new();
            for item in items.iter() {
                all.extend(required(item, preds)?);
            }
            Some(all)
        }
    }
}

/// The expected cost of a literal set: shorter literals match more often,
/// and every literal is one more way in.
fn cost(atoms: &[Atom]) -> f64 {
    atoms
        .iter()
        .map(|a| {
            let len = a.literal.chars().count().min(12) as f64;
            1.0 / (len * len)
        })
        .sum()
}

fn pred_atoms(pred: &Pred) -> Option<Vec<Atom>> {
    let field = pred.field.unwrap_or(ANY_FIELD);
    let Test::Values {
        specs,
        all,
        neq: false,
        any,
    } = &pred.test
    else {
        return None;
    };
    let spec_atoms = |spec: &Vec<Matcher>| -> Option<Vec<Atom>> {
        let mut out = Vec::new();
        for m in spec {
            let (literals, exact) = match m {
                Matcher::Str { matcher, .. } => {
                    (vec![matcher.longest_literal()?], matcher.is_exact())
                }
                Matcher::Regex(_, required) => (required.clone()?, false),
                _ => return None,
            };
            if literals.iter().any(String::is_empty) {
                return None;
            }
            out.extend(literals.into_iter().map(|literal| Atom {
                field,
                literal,
                exact,
            }));
        }
        (!out.is_empty()).then_some(out)
    };
    if *all {
        return specs
            .iter()
            .filter_map(spec_atoms)
            .min_by(|a, b| cost(a).total_cmp(&cost(b)));
    }
    let mut out = Vec::new();
    for spec in specs {
        out.extend(spec_atoms(spec)?);
    }
    if let Some(any) = any {
        out.extend(any.literals.iter().map(|literal| Atom {
            field,
            literal: literal.clone(),
            exact: false,
        }));
    }
    (!out.is_empty()).then_some(out)
}
