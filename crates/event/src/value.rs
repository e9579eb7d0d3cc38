use std::fmt::{self, Write as _};

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::Text;

/// One field value, as a decoder found it.
///
/// Numbers keep their type so that comparisons (`lt`, `gte`) work, but every
/// value also has a text form ([`Value::write_text`]) because Sigma compares
/// values as strings.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An explicit null (JSON `null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(Text),
    /// Several values under one name (JSON arrays, Zeek sets and vectors).
    List(Vec<Value>),
}

impl Value {
    /// The string inside a [`Value::Str`], or `None` for any other kind.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer when it is one, or a string holding one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Appends the text form of a scalar value to `out`: strings as they are,
    /// numbers in decimal, booleans as `true`/`false`, null as nothing.
    /// Lists append their items separated by `, `.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Value::Str(s) => out.push_str(s),
            Value::List(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    item.write_text(out);
                }
            }
        }
    }

    /// The text form of the value (see [`Value::write_text`]).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// Converts a parsed JSON value. Objects are not flattened here; use
    /// [`crate::Fields::push_json`] for that.
    pub fn from_json(value: &serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => n.as_f64().map_or(Value::Null, Value::Float),
            },
            serde_json::Value::String(s) => Value::Str(Text::from(s.as_str())),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(_) => Value::Str(Text::from(value.to_string())),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Text::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Text::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Value::Int(4688).to_text(), "4688");
        assert_eq!(Value::Bool(true).to_text(), "true");
        assert_eq!(Value::Null.to_text(), "");
        let list = Value::List(vec![Value::from("a"), Value::Int(2)]);
        assert_eq!(list.to_text(), "a, 2");
    }

    #[test]
    fn json_numbers_keep_their_kind() {
        let v: serde_json::Value = serde_json::json!([1, 1.5, "x", null, true]);
        let Value::List(items) = Value::from_json(&v) else {
            panic!("array must become a list")
        };
        assert_eq!(items[0], Value::Int(1));
        assert_eq!(items[1], Value::Float(1.5));
        assert_eq!(items[2], Value::from("x"));
        assert_eq!(items[3], Value::Null);
        assert_eq!(items[4], Value::Bool(true));
    }
}
