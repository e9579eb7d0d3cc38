use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::{Text, Value};

/// The fields of one event, in the order the decoder found them.
///
/// Names are flat: nested objects become dotted names (`alert.signature`).
/// Events rarely have more than a few dozen fields, so lookups scan a vector;
/// the Sigma engine builds its own index once per event for the fields its
/// rules need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(Text, Value)>,
}

impl Fields {
    /// An empty set of fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Fields {
            entries: Vec::with_capacity(n),
        }
    }

    /// Appends a field without checking for an existing one of that name.
    pub fn push(&mut self, name: impl Into<Text>, value: Value) {
        self.entries.push((name.into(), value));
    }

    /// Sets a field, replacing the value of an existing field of that name.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.entries.push((Text::from(name), value)),
        }
    }

    /// Adds a field only when no field of that name exists yet.
    pub fn set_if_absent(&mut self, name: &str, value: Value) {
        if !self.contains(name) {
            self.entries.push((Text::from(name), value));
        }
    }

    /// The value of the first field with this name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text of a string field, or `None` when absent or not a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Whether a field with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// Removes the first field with this name and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(n, _)| n == name)?;
        Some(self.entries.remove(at).1)
    }

    /// Renames a field in place, keeping its position; does nothing when the
    /// field is absent or the new name is taken.
    pub fn rename(&mut self, from: &str, to: &str) {
        if self.contains(to) {
            return;
        }
        if let Some((n, _)) = self.entries.iter_mut().find(|(n, _)| n == from) {
            *n = Text::from(to);
        }
    }

    /// The name and value of the field at `index` (in decoding order).
    pub fn at(&self, index: usize) -> Option<(&str, &Value)> {
        self.entries.get(index).map(|(n, v)| (n.as_str(), v))
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a parsed JSON value under `name`, flattening objects into dotted
    /// names (`{"a":{"b":1}}` under `x` becomes `x.a.b`). An empty `name`
    /// puts an object's members at the top level.
    pub fn push_json(&mut self, name: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, member) in members {
                    if name.is_empty() {
                        self.push_json(key, member);
                    } else {
                        self.push_json(&format!("{name}.{key}"), member);
                    }
                }
            }
            other => self.push(name, Value::from_json(other)),
        }
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name.as_str(), value)?;
        }
        map.end()
    }
}

impl<'a> FromIterator<(&'a str, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value)>>(iter: I) -> Self {
        Fields {
            entries: iter.into_iter().map(|(n, v)| (Text::from(n), v)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_json() {
        let json = serde_json::json!({"alert": {"signature": "ET X", "severity": 2}, "src_ip": "10.0.0.1"});
        let mut fields = Fields::new();
        fields.push_json("", &json);
        assert_eq!(fields.get_str("alert.signature"), Some("ET X"));
        assert_eq!(fields.get("alert.severity"), Some(&Value::Int(2)));
        assert_eq!(fields.get_str("src_ip"), Some("10.0.0.1"));
    }

    #[test]
    fn set_replaces_and_rename_keeps_order() {
        let mut fields: Fields = [("a", Value::Int(1)), ("b", Value::Int(2))]
            .into_iter()
            .collect();
        fields.set("a", Value::Int(3));
        fields.rename("b", "c");
        let names: Vec<_> = fields.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(fields.get("a"), Some(&Value::Int(3)));
        fields.set_if_absent("a", Value::Int(9));
        assert_eq!(fields.get("a"), Some(&Value::Int(3)));
    }
}
