//! The statistics the centre reports: alerts by category before and after
//! noise removal, and noise by reason.

use std::collections::BTreeMap;

use gsoc_event::{Assessment, Verdict};

/// Triaged alerts by category, before and after noise removal, and noise
/// by reason code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Every alert, by category code.
    pub all: BTreeMap<&'static str, u64>,
    /// Alerts needing vigilance, by category code.
    pub vigilance: BTreeMap<&'static str, u64>,
    /// Noise, by reason code.
    pub noise: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// Counts one alert.
    pub fn add(&mut self, a: &Assessment) {
        *self.all.entry(a.category).or_default() += 1;
        match a.verdict {
            Verdict::Vigilance => *self.vigilance.entry(a.category).or_default() += 1,
            Verdict::Noise => *self.noise.entry(a.reason.code).or_default() += 1,
        }
    }

    /// Every alert counted.
    pub fn total(&self) -> u64 {
        self.all.values().sum()
    }

    /// The alerts needing vigilance.
    pub fn vigilant(&self) -> u64 {
        self.vigilance.values().sum()
    }

    /// The alerts that are noise.
    pub fn noisy(&self) -> u64 {
        self.noise.values().sum()
    }
}
