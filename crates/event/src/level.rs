use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How serious a detection is, in Sigma's five levels (lowest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// For enrichment; expected to match often.
    Informational,
    /// Notable, rarely an incident.
    Low,
    /// Worth a manual review.
    Medium,
    /// Needs a prompt review.
    High,
    /// Almost certainly an incident.
    Critical,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    /// The lower-case name Sigma uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    /// Parses a level name; `info` is accepted for `informational`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Level::Informational),
            "low" => Ok(Level::Low),
            "medium" => Ok(Level::Medium),
            "high" => Ok(Level::High),
            "critical" => Ok(Level::Critical),
            other => Err(format!(
                "unknown level '{other}' (expected informational, low, medium, high or critical)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert!(Level::Critical > Level::High);
        assert_eq!("INFO".parse::<Level>(), Ok(Level::Informational));
        assert!("severe".parse::<Level>().unwrap_err().contains("severe"));
    }
}
