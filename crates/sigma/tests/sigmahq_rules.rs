//! Every SigmaHQ rule in the default rule folders loads and compiles.

use gsoc_sigma::{EngineBuilder, RuleSet};

#[test]
fn sigmahq_rules_all_load() {
    let Some(data) = gsoc_testdata::shared_data() else {
        return;
    };
    let root = data.join("sigma/sigmahq");
    let mut set = RuleSet::new();
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        set.load_path(&root.join(folder));
    }
    let engine = EngineBuilder::new().build(&set);
    for reject in engine.rejects() {
        eprintln!("rejected: {}", reject.error);
    }
    for warning in engine.warnings() {
        eprintln!("warning: {}: {}", warning.path, warning.message);
    }
    assert_eq!(engine.rejects().len(), 0, "every SigmaHQ rule must load");
    assert_eq!(engine.rule_count(), 3754);
}
