//! Whether the target of an attack can be affected by it, from the asset
//! inventory: patched against the CVEs the detection names, another
//! platform than the one the rule is for, or none of the products its
//! title names.

use gsoc_event::{Detection, EventFacts};

use crate::policy::{Asset, Policy};

/// Platforms a title may name, and the words that name them.
const PLATFORMS: &[(&str, &[&str])] = &[
    (
        "windows",
        &["windows", "win32", "smb", "rdp", "mssql", "iis"],
    ),
    ("linux", &["linux", "unix", "bash"]),
    ("macos", &["macos", "osx"]),
];

/// Why the target is not affected, when an asset says so.
pub fn not_affected(
    detection: &Detection,
    facts: &EventFacts,
    policy: &Policy,
    japanese: bool,
) -> Option<String> {
    let asset = policy.asset(facts.dst_ip, detection.host.as_deref())?;
    let title = detection.rule.title.to_ascii_lowercase();
    let words = words(&title);
    patched(detection, asset, japanese)
        .or_else(|| other_platform(&words, asset, japanese))
        .or_else(|| missing_product(&title, &words, asset, policy, japanese))
}

fn words(title: &str) -> Vec<&str> {
    title
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether a title names something: a phrase by its text, a word as a
/// word, a prefix ending in `-` as the start of a word.
fn names(title: &str, words: &[&str], needle: &str) -> bool {
    if needle.contains(' ') {
        return title.contains(needle);
    }
    match needle.strip_suffix('-') {
        Some(prefix) => words
            .iter()
            .any(|w| w.starts_with(prefix) && w.len() > prefix.len()),
        None => words.contains(&needle),
    }
}

/// The CVE ids a detection names, in its tags (`cve.2021-44228`) or title.
fn cves(detection: &Detection) -> Vec<String> {
    let from_tags = detection.rule.tags.iter().filter_map(|t| {
        t.to_ascii_lowercase()
            .strip_prefix("cve.")
            .map(|c| format!("CVE-{c}"))
    });
    let title = detection.rule.title.to_ascii_uppercase();
    let from_title = title
        .match_indices("CVE-")
        .map(|(at, _)| {
            let id: String = title[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            id
        })
        .filter(|id| id.len() > 8);
    let mut all: Vec<String> = from_tags
        .chain(from_title)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    all.sort();
    all.dedup();
    all
}

fn patched(detection: &Detection, asset: &Asset, japanese: bool) -> Option<String> {
    let cves = cves(detection);
    let fixed = |c: &String| asset.patched.iter().any(|p| p.eq_ignore_ascii_case(c));
    if cves.is_empty() || !cves.iter().all(fixed) {
        return None;
    }
    let list = cves.join(", ");
    Some(if japanese {
        format!("{}は{list}に対処済み", asset.name)
    } else {
        format!("{} is patched against {list}", asset.name)
    })
}

fn other_platform(words: &[&str], asset: &Asset, japanese: bool) -> Option<String> {
    let platform = asset.platform.as_deref()?.to_ascii_lowercase();
    let (named, _) = PLATFORMS
        .iter()
        .find(|(_, needles)| needles.iter().any(|n| words.contains(n)))?;
    if *named == platform {
        return None;
    }
    Some(if japanese {
        format!(
            "{}は{platform}で、{named}向けの攻撃の対象ではない",
            asset.name
        )
    } else {
        format!("{} runs {platform}, not {named}", asset.name)
    })
}

fn missing_product(
    title: &str,
    words: &[&str],
    asset: &Asset,
    policy: &Policy,
    japanese: bool,
) -> Option<String> {
    if asset.software.is_empty() {
        return None;
    }
    let named: Vec<&str> = policy
        .products
        .iter()
        .filter(|(_, needles)| {
            needles
                .iter()
                .any(|n| names(title, words, &n.to_ascii_lowercase()))
        })
        .map(|(product, _)| product.as_str())
        .collect();
    let runs = |p: &&str| asset.software.iter().any(|s| s.eq_ignore_ascii_case(p));
    if named.is_empty() || named.iter().any(runs) {
        return None;
    }
    let list = named.join(", ");
    Some(if japanese {
        format!("{}は{list}を使用していない", asset.name)
    } else {
        format!("{} does not run {list}", asset.name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;
    use gsoc_event::{DetectionKind, Fields, Level, RuleInfo, Source};
    use std::sync::Arc;

    fn detection(title: &str, tags: &[&str]) -> Detection {
        Detection {
            kind: DetectionKind::Sensor,
            rule: Arc::new(RuleInfo {
                id: "r".into(),
                title: title.into(),
                level: Level::High,
                author: String::new(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                status: String::new(),
                path: String::new(),
            }),
            event_time: None,
            host: None,
            source: Source {
                file: "f".into(),
                record: 1,
            },
            fields: Fields::new(),
            indicator: None,
            context: Fields::new(),
            facts: None,
            assessment: None,
        }
    }

    #[test]
    fn the_inventory_says_when_a_target_is_not_affected() {
        let inventory = r#"
            [[assets]]
            name = "web01"
            addresses = ["10.0.5.10"]
            platform = "linux"
            software = ["nginx", "wordpress"]
            patched = ["CVE-2021-44228"]
        "#;
        let policy = Policy::from_toml(&[("d", DEFAULT_POLICY), ("p", inventory)]).unwrap();
        let facts = EventFacts {
            dst_ip: Some("10.0.5.10".parse().unwrap()),
            ..EventFacts::default()
        };
        let check = |title: &str, tags: &[&str]| {
            not_affected(&detection(title, tags), &facts, &policy, false)
        };
        let log4j = check("Log4j RCE CVE-2021-44228 attempt", &[]);
        assert_eq!(
            log4j.as_deref(),
            Some("web01 is patched against CVE-2021-44228")
        );
        assert!(check("ET EXPLOIT Apache Struts RCE", &["cve.2017-5638"]).is_some());
        let iis = check("ET WEB_SERVER IIS ASP.NET exploit", &[]);
        assert_eq!(iis.as_deref(), Some("web01 runs linux, not windows"));
        assert_eq!(
            check("ET WEB_SPECIFIC_APPS Tomcat manager upload", &[]).as_deref(),
            Some("web01 does not run tomcat")
        );
        assert!(
            check("WordPress xmlrpc brute force", &[]).is_none(),
            "it runs WordPress"
        );
        assert!(
            check("Generic SQL injection", &[]).is_none(),
            "nothing to rule it out"
        );
        let elsewhere = EventFacts {
            dst_ip: Some("10.0.5.11".parse().unwrap()),
            ..EventFacts::default()
        };
        let unknown = not_affected(&detection("Tomcat upload", &[]), &elsewhere, &policy, false);
        assert!(unknown.is_none(), "not in the inventory");
    }
}
