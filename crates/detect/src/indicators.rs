//! The indicators a run matches: the store's and those in feed files read
//! for the run; and the indicators a suspicious message adds.

use std::path::PathBuf;
use std::sync::Arc;

use gsoc_intel::{ImportOptions, Indicator, Matcher, MatcherBuilder, Store, import_paths};

/// Where the indicators to match come from.
#[derive(Clone, Debug, Default)]
pub struct IndicatorSources {
    /// The data directory whose store is read, if any.
    pub store: Option<PathBuf>,
    /// Feed files or folders read for this run only.
    pub feeds: Vec<PathBuf>,
}

/// The matcher over every indicator of `sources`, with what could not be
/// read from the feeds. Fails only when the store cannot be read.
pub fn load_indicators(
    sources: &IndicatorSources,
) -> Result<(Matcher, Vec<gsoc_intel::Problem>), gsoc_intel::StoreError> {
    let mut builder = MatcherBuilder::new();
    if let Some(dir) = &sources.store {
        Store::for_each_indicator(dir, &mut |indicator| {
            builder.add(indicator);
        })?;
    }
    let mut problems = Vec::new();
    if !sources.feeds.is_empty() {
        let report = import_paths(&sources.feeds, &ImportOptions::default(), &mut |item| {
            if let gsoc_intel::Item::Indicator(indicator) = item {
                builder.add(indicator);
            }
        });
        problems = report.errors;
    }
    Ok((builder.build(), problems))
}

/// The indicators of an analysed message (its addresses, domains, links
/// and attachment hashes), labelled with the message's class, for the
/// store.
pub fn mail_indicators(analysis: &gsoc_mail::Analysis) -> Vec<Indicator> {
    let source: Arc<str> = Arc::from("gsoc-mail");
    analysis
        .indicators
        .iter()
        .filter_map(|found| {
            let inferred = gsoc_intel::normalize::infer(&found.value).ok()?;
            let mut indicator =
                Indicator::simple(inferred.kind, inferred.value, Arc::clone(&source));
            indicator
                .labels
                .push(format!("mail-{}", analysis.class.as_str()));
            indicator.name = Some(format!(
                "{} in mail: {}",
                found.kind, analysis.headers.subject
            ));
            Some(indicator)
        })
        .collect()
}
