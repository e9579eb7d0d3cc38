//! English and Japanese for everything gsoc prints for people.
//!
//! Written by hand rather than with an i18n crate: two languages and a few
//! dozen fixed phrases are clearest as one `match` per phrase, checked by
//! the compiler for completeness.

use clap::ValueEnum;
use gsoc_event::Level;
use jiff::Timestamp;

/// The language of human-readable output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// English, times in UTC.
    En,
    /// Japanese, times in Asia/Tokyo.
    Ja,
}

impl Lang {
    /// The language given, else the one the environment asks for
    /// (`LC_ALL`, `LC_MESSAGES`, `LANG` starting with `ja`), else English.
    pub fn resolve(given: Option<Lang>) -> Lang {
        given.unwrap_or_else(|| {
            let env = ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .unwrap_or_default();
            if env.starts_with("ja") {
                Lang::Ja
            } else {
                Lang::En
            }
        })
    }

    /// A time as people read it in this language's zone.
    pub fn format_time(self, time: Option<Timestamp>) -> String {
        match time {
            Some(t) => gsoc_event::time::readable_time(t, self == Lang::Ja),
            None => "-".to_owned(),
        }
    }

    /// A level's name.
    pub fn level(self, level: Level) -> &'static str {
        match (self, level) {
            (Lang::En, l) => l.as_str(),
            (Lang::Ja, Level::Informational) => "情報",
            (Lang::Ja, Level::Low) => "低",
            (Lang::Ja, Level::Medium) => "中",
            (Lang::Ja, Level::High) => "高",
            (Lang::Ja, Level::Critical) => "重大",
        }
    }

    /// The English or the Japanese text, by language (for one-off phrases).
    pub fn pick(self, en: &'static str, ja: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }

    /// A fixed phrase.
    pub fn text(self, phrase: Phrase) -> &'static str {
        use Phrase::*;
        match (self, phrase) {
            (Lang::En, Time) => "Time",
            (Lang::Ja, Time) => "日時",
            (Lang::En, LevelHeader) => "Level",
            (Lang::Ja, LevelHeader) => "重要度",
            (Lang::En, Rule) => "Rule",
            (Lang::Ja, Rule) => "ルール",
            (Lang::En, Host) => "Host",
            (Lang::Ja, Host) => "ホスト",
            (Lang::En, Author) => "Rule author",
            (Lang::Ja, Author) => "ルール作成者",
            (Lang::En, Details) => "Matched fields",
            (Lang::Ja, Details) => "一致したフィールド",
            (Lang::En, Summary) => "Summary",
            (Lang::Ja, Summary) => "集計",
            (Lang::En, Files) => "files read",
            (Lang::Ja, Files) => "読み込んだファイル",
            (Lang::En, Events) => "events read",
            (Lang::Ja, Events) => "読み込んだイベント",
            (Lang::En, OutOfRange) => "events outside --from/--to",
            (Lang::Ja, OutOfRange) => "期間外のイベント (--from/--to)",
            (Lang::En, Quarantined) => "records that failed to decode (skipped)",
            (Lang::Ja, Quarantined) => "デコードできなかったレコード (スキップ)",
            (Lang::En, NotRead) => "inputs not read",
            (Lang::Ja, NotRead) => "読めなかった入力",
            (Lang::En, Detections) => "detections",
            (Lang::Ja, Detections) => "検知",
            (Lang::En, ByLevel) => "Detections by level",
            (Lang::Ja, ByLevel) => "重要度別の検知数",
            (Lang::En, ByRule) => "Detections by rule (top 15)",
            (Lang::Ja, ByRule) => "ルール別の検知数 (上位15)",
            (Lang::En, Rules) => "rules loaded",
            (Lang::Ja, Rules) => "読み込んだルール",
            (Lang::En, RulesRejected) => "rules rejected (see `gsoc rules check`)",
            (Lang::Ja, RulesRejected) => "読み込めなかったルール (`gsoc rules check` で確認)",
            (Lang::En, Elapsed) => "elapsed",
            (Lang::Ja, Elapsed) => "所要時間",
            (Lang::En, Rate) => "events/s",
            (Lang::Ja, Rate) => "イベント/秒",
            (Lang::En, NoDetections) => "No detections.",
            (Lang::Ja, NoDetections) => "検知はありませんでした。",
            (Lang::En, PeakMemory) => "peak memory",
            (Lang::Ja, PeakMemory) => "最大メモリ使用量",
            (Lang::En, MoreInQuarantine) => "(the first ten; --quarantine FILE lists them all)",
            (Lang::Ja, MoreInQuarantine) => "(最初の10件。--quarantine FILE で全件を出力)",
            (Lang::En, Indicators) => "indicators matched",
            (Lang::Ja, Indicators) => "照合した脅威指標",
            (Lang::En, Examples) => "first examples",
            (Lang::Ja, Examples) => "例",
        }
    }
}

/// The fixed phrases of human-readable output.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub enum Phrase {
    Time,
    LevelHeader,
    Rule,
    Host,
    Author,
    Details,
    Summary,
    Files,
    Events,
    OutOfRange,
    Quarantined,
    NotRead,
    Detections,
    ByLevel,
    ByRule,
    Rules,
    RulesRejected,
    Elapsed,
    Rate,
    NoDetections,
    PeakMemory,
    MoreInQuarantine,
    Examples,
    Indicators,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_times_are_in_tokyo() {
        let t: Timestamp = "2024-03-31T15:30:00Z".parse().expect("valid");
        assert_eq!(Lang::Ja.format_time(Some(t)), "2024-04-01 00:30:00 JST");
        assert_eq!(Lang::En.format_time(Some(t)), "2024-03-31 15:30:00 UTC");
        assert_eq!(Lang::Ja.level(Level::Critical), "重大");
    }
}
