//! English and Japanese for everything gsoc prints for people.
//!
//! Written by hand rather than with an i18n crate: two languages and a few
//! dozen fixed phrases are clearest as one `match` per phrase, checked by
//! the compiler for completeness.

pub use gsoc_event::Lang;

/// The fixed phrases of human-readable output, in either language.
pub trait Phrases {
    /// A fixed phrase.
    fn text(self, phrase: Phrase) -> &'static str;
}

impl Phrases for Lang {
    fn text(self, phrase: Phrase) -> &'static str {
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
