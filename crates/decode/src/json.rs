//! JSON records straight into [`Fields`], without building a
//! `serde_json::Value` first: objects are flattened into dotted names as they
//! are read, and a name mapper can rename or drop each leaf (the Windows
//! decoders use it to turn `Event.System.Provider.#attributes.Name` into
//! `Provider_Name`). This is the hot path of JSON decoding.

use std::fmt;

use gsoc_event::{Fields, Text, Value};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Decides the final name of a leaf from its dotted path. `None` drops it.
pub(crate) trait NameMapper {
    fn name(&self, path: &str) -> Option<Text>;
}

/// Keeps the dotted path: `{"a":{"b":1}}` gives `a.b`.
pub(crate) struct Dotted;

impl NameMapper for Dotted {
    #[inline]
    fn name(&self, path: &str) -> Option<Text> {
        Some(Text::from(path))
    }
}

/// Parses one JSON object into fields. Errors carry serde_json's message
/// with line and column.
pub(crate) fn parse_object(text: &str, mapper: &dyn NameMapper) -> Result<Fields, String> {
    let mut fields = Fields::with_capacity(32);
    let mut path = String::with_capacity(64);
    let mut de = serde_json::Deserializer::from_str(text);
    Node {
        out: &mut fields,
        mapper,
        path: &mut path,
        root: true,
    }
    .deserialize(&mut de)
    .map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(fields)
}

/// A value at `path`; objects recurse, everything else becomes a field.
struct Node<'a> {
    out: &'a mut Fields,
    mapper: &'a dyn NameMapper,
    path: &'a mut String,
    root: bool,
}

impl Node<'_> {
    fn leaf(self, value: Value) {
        if let Some(name) = self.mapper.name(self.path) {
            self.out.push(name, value);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.root {
            "a JSON object"
        } else {
            "a JSON value"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.path.len();
        while map.next_key_seed(Key { path: self.path })?.is_some() {
            map.next_value_seed(Node {
                out: self.out,
                mapper: self.mapper,
                path: self.path,
                root: false,
            })?;
            self.path.truncate(base);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.root {
            return Err(de::Error::custom("expected a JSON object, found an array"));
        }
        let mut items = Vec::new();
        let mut members: Vec<(String, Vec<Value>)> = Vec::new();
        while let Some(item) = seq.next_element::<serde_json::Value>()? {
            items.push(match item {
                serde_json::Value::Object(ref object) => {
                    collect_members(object, &mut members);
                    Value::Str(Text::from(item.to_string()))
                }
                other => Value::from_json(&other),
            });
        }
        let base = self.path.clone();
        for (key, values) in members {
            let path = format!("{base}.{key}");
            if let Some(name) = self.mapper.name(&path) {
                self.out.push(name, Value::List(values));
            }
        }
        self.leaf(Value::List(items));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Value::Str(Text::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.scalar(Value::Str(Text::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Value::Float(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Value::Bool(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Value::Null)
    }
}

impl Node<'_> {
    fn scalar<E: de::Error>(self, value: Value) -> Result<(), E> {
        if self.root {
            return Err(E::custom("expected a JSON object"));
        }
        self.leaf(value);
        Ok(())
    }
}

/// Gathers the scalar members of objects in an array by key, so that
/// `"answers":[{"rdata":"a"},{"rdata":"b"}]` also gives
/// `answers.rdata: [a, b]` (Suricata's DNS answers, CloudTrail's resources).
fn collect_members(
    object: &serde_json::Map<String, serde_json::Value>,
    members: &mut Vec<(String, Vec<Value>)>,
) {
    for (key, member) in object {
        if member.is_object() || member.is_array() {
            continue;
        }
        let value = Value::from_json(member);
        match members.iter_mut().find(|(k, _)| k == key) {
            Some((_, values)) => values.push(value),
            None => members.push((key.clone(), vec![value])),
        }
    }
}

/// Appends a key to the path (with a dot when the path is not empty).
struct Key<'a> {
    path: &'a mut String,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(v);
        Ok(())
    }
}

/// Checks that text holds exactly one JSON value, without keeping it.
pub(crate) fn is_complete_json(text: &str) -> bool {
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserialize::deserialize(&mut de).is_ok_and(|IgnoredAny| de.end().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_while_reading() {
        let f = parse_object(
            r#"{"a":{"b":1,"c":{"d":"x"}},"e":[1,"y",{"z":2}],"n":null,"t":true}"#,
            &Dotted,
        )
        .expect("valid");
        assert_eq!(f.get("a.b"), Some(&Value::Int(1)));
        assert_eq!(f.get_str("a.c.d"), Some("x"));
        assert_eq!(
            f.get("e"),
            Some(&Value::List(vec![
                Value::Int(1),
                Value::from("y"),
                Value::from(r#"{"z":2}"#)
            ]))
        );
        assert_eq!(f.get("n"), Some(&Value::Null));
        assert_eq!(f.get("t"), Some(&Value::Bool(true)));
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        assert!(parse_object("[1,2]", &Dotted).is_err());
        assert!(parse_object("42", &Dotted).is_err());
        let err = parse_object(r#"{"a": }"#, &Dotted).expect_err("broken");
        assert!(err.contains("line 1"), "{err}");
        assert!(parse_object(r#"{"a":1} x"#, &Dotted).is_err());
    }

    #[test]
    fn escaped_keys_and_values() {
        let f = parse_object(r#"{"p\u0061th":"C:\\Windows\\"}"#, &Dotted).expect("valid");
        assert_eq!(f.get_str("path"), Some("C:\\Windows\\"));
    }
}
