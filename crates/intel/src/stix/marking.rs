//! TLP marking definitions: the standard TLP 1.0 and TLP 2.0 objects, and
//! reading a TLP level from any marking definition.

use serde_json::{Value, json};

use crate::model::Tlp;

/// The id of the TLP 2.0 extension definition.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The standard TLP 2.0 marking definition ids.
const TLP2_IDS: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The standard TLP 1.0 marking definition ids (STIX 2.1 section 7.2.1.4).
const TLP1_IDS: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// The id of the standard TLP 2.0 marking definition for a level.
pub fn tlp2_id(tlp: Tlp) -> &'static str {
    TLP2_IDS
        .iter()
        .find(|(t, _)| *t == tlp)
        .map(|(_, id)| *id)
        .unwrap_or(TLP2_IDS[4].1)
}

/// The TLP level of a standard (TLP 1.0 or 2.0) marking definition id.
pub fn standard_tlp(id: &str) -> Option<Tlp> {
    TLP2_IDS
        .iter()
        .chain(TLP1_IDS.iter())
        .find(|(_, known)| *known == id)
        .map(|(tlp, _)| *tlp)
}

/// The standard TLP 2.0 marking definition object for a level, as FIRST
/// publishes it.
pub fn tlp2_object(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp2_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.to_string(),
        "extensions": {
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.as_str(),
            }
        }
    })
}

/// The TLP level a marking definition object stands for: a TLP 2.0
/// extension, a TLP 1.0 `definition`, or a `TLP:…` name.
pub fn tlp_of(object: &Value) -> Option<Tlp> {
    if let Some(id) = object.get("id").and_then(Value::as_str)
        && let Some(tlp) = standard_tlp(id)
    {
        return Some(tlp);
    }
    let from_extension = object
        .pointer(&format!("/extensions/{TLP2_EXTENSION}/tlp_2_0"))
        .and_then(Value::as_str);
    let from_definition = (object.get("definition_type").and_then(Value::as_str) == Some("tlp"))
        .then(|| object.pointer("/definition/tlp").and_then(Value::as_str))
        .flatten();
    let from_name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| n.to_ascii_lowercase().starts_with("tlp:"));
    from_extension
        .or(from_definition)
        .or(from_name)
        .and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_ids_round_trip() {
        for tlp in Tlp::ALL {
            assert_eq!(standard_tlp(tlp2_id(tlp)), Some(tlp));
            assert_eq!(tlp_of(&tlp2_object(tlp)), Some(tlp));
        }
        assert_eq!(
            standard_tlp("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
    }

    #[test]
    fn tlp1_definitions_are_read() {
        let object = json!({
            "type": "marking-definition",
            "id": "marking-definition--00000000-0000-4000-8000-000000000000",
            "definition_type": "tlp",
            "definition": {"tlp": "amber"}
        });
        assert_eq!(tlp_of(&object), Some(Tlp::Amber));
        let statement = json!({"definition_type": "statement", "definition": {"statement": "x"}});
        assert_eq!(tlp_of(&statement), None);
    }
}
