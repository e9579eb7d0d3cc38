//! Alert categories, after the national plan's classes of incidents, and
//! how a detection is put in one.

use gsoc_event::{Detection, DetectionKind};
use serde::Deserialize;

use crate::policy::CategoryMaps;

/// What kind of incident an alert points to. Ordered from the most serious
/// down: when several mappings apply, the most serious wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Suspected malware infection: command and control, beaconing, known
    /// malware.
    MalwareInfection,
    /// Targeted attack and the like: spear-phishing, exploitation, lateral
    /// movement, privilege escalation, persistence.
    TargetedAttack,
    /// Unauthorised access: brute force, misuse of valid accounts.
    UnauthorisedAccess,
    /// Denial of service.
    DenialOfService,
    /// Policy violation.
    PolicyViolation,
    /// Reconnaissance: scans and probes.
    Reconnaissance,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, most serious first.
    pub const ALL: [Category; 7] = [
        Category::MalwareInfection,
        Category::TargetedAttack,
        Category::UnauthorisedAccess,
        Category::DenialOfService,
        Category::PolicyViolation,
        Category::Reconnaissance,
        Category::Other,
    ];

    /// The code used in output and in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::MalwareInfection => "malware-infection",
            Category::TargetedAttack => "targeted-attack",
            Category::UnauthorisedAccess => "unauthorised-access",
            Category::DenialOfService => "denial-of-service",
            Category::PolicyViolation => "policy-violation",
            Category::Reconnaissance => "reconnaissance",
            Category::Other => "other",
        }
    }

    /// The category from its code.
    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// A name for people, in English or Japanese.
    pub fn label(self, japanese: bool) -> &'static str {
        let (en, ja) = match self {
            Category::MalwareInfection => ("suspected malware infection", "マルウェア感染の疑い"),
            Category::TargetedAttack => ("targeted attack etc.", "標的型攻撃等"),
            Category::UnauthorisedAccess => ("unauthorised access", "不正アクセス"),
            Category::DenialOfService => ("denial of service", "サービス不能攻撃"),
            Category::PolicyViolation => ("policy violation", "ポリシー違反"),
            Category::Reconnaissance => ("reconnaissance", "偵察行為"),
            Category::Other => ("other", "その他"),
        };
        if japanese { ja } else { en }
    }
}

/// The category of a detection under the policy's mappings: by rule id,
/// then the detection kind, then its tags (ATT&CK technique tags before
/// tactic tags and labels), then the sensor's classtype and its title (the
/// more serious of the two), then its log source; else `other`.
pub fn categorise(detection: &Detection, maps: &CategoryMaps) -> Category {
    if let Some(c) = maps.rules.get(&detection.rule.id) {
        return *c;
    }
    if detection.kind == DetectionKind::Beacon {
        return Category::MalwareInfection;
    }
    if detection.kind == DetectionKind::Probe {
        return Category::Reconnaissance;
    }
    if let Some(indicator) = &detection.indicator
        && !indicator.malware.is_empty()
    {
        return Category::MalwareInfection;
    }
    let sensor = [
        by_classtype(detection, maps),
        by_title(&detection.rule.title, maps),
    ];
    by_tags(&detection.rule.tags, maps)
        .or_else(|| sensor.into_iter().flatten().min())
        .or_else(|| by_logsource(detection, maps))
        .unwrap_or(Category::Other)
}

fn by_tags(tags: &[String], maps: &CategoryMaps) -> Option<Category> {
    let find = |technique: bool| {
        tags.iter()
            .filter(|t| is_technique(t) == technique)
            .filter_map(|t| maps.tags.get(&t.to_ascii_lowercase()))
            .min()
            .copied()
    };
    find(true).or_else(|| find(false))
}

/// `attack.t1059` and `attack.t1059.001` are techniques.
fn is_technique(tag: &str) -> bool {
    tag.get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("attack.t"))
        && tag[8..].starts_with(|c: char| c.is_ascii_digit())
}

fn by_classtype(detection: &Detection, maps: &CategoryMaps) -> Option<Category> {
    let classtype = detection.facts.as_ref()?.classtype.as_deref()?;
    maps.classtypes.get(classtype).copied()
}

fn by_title(title: &str, maps: &CategoryMaps) -> Option<Category> {
    maps.titles
        .iter()
        .filter(|(text, _)| title.contains(text.as_str()))
        .map(|(_, c)| *c)
        .min()
}

fn by_logsource(detection: &Detection, maps: &CategoryMaps) -> Option<Category> {
    let logsource = &detection.facts.as_ref()?.logsource;
    [&logsource.category, &logsource.service, &logsource.product]
        .into_iter()
        .flatten()
        .find_map(|name| maps.logsources.get(name.as_str()).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    #[test]
    fn techniques_decide_before_tactics() {
        let maps = Policy::default().categories;
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            by_tags(&tags(&["attack.discovery", "attack.t1046"]), &maps),
            Some(Category::Reconnaissance)
        );
        assert_eq!(
            by_tags(
                &tags(&["attack.reconnaissance", "attack.initial-access"]),
                &maps
            ),
            Some(Category::TargetedAttack),
            "the most serious tactic wins"
        );
        assert_eq!(by_tags(&tags(&["attack.t9999"]), &maps), None);
        assert_eq!(
            Category::from_code("denial-of-service"),
            Some(Category::DenialOfService)
        );
    }
}
