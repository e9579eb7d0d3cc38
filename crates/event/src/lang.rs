//! The two languages gsoc speaks to people. Everything stored is a code
//! (a category, a reason with its parameters); it becomes an English or a
//! Japanese sentence only when shown, through a [`Lang`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Level;

/// The language of human-readable output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English, times in UTC.
    #[default]
    En,
    /// Japanese, times in Asia/Tokyo.
    Ja,
}

impl Lang {
    /// Both languages, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The language given, else the one the environment asks for
    /// (`LC_ALL`, `LC_MESSAGES`, `LANG` starting with `ja`), else English.
    pub fn resolve(given: Option<Lang>) -> Lang {
        given.unwrap_or_else(|| {
            let env = ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .unwrap_or_default();
            Lang::of_locale(&env)
        })
    }

    /// The language of a locale name (`ja_JP.UTF-8` is Japanese; anything
    /// else English).
    pub fn of_locale(locale: &str) -> Lang {
        if locale.starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// `en` or `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// A time as people read it in this language's zone; `-` for none.
    pub fn format_time(self, time: Option<Timestamp>) -> String {
        match time {
            Some(t) => self.time(t),
            None => "-".to_owned(),
        }
    }

    /// A time as people read it in this language's zone:
    /// `2024-03-31 15:30:00 UTC`, `2024-04-01 00:30:00 JST`.
    pub fn time(self, time: Timestamp) -> String {
        crate::time::readable_time(time, self == Lang::Ja)
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

    /// The English or the Japanese text, by language.
    pub fn pick<T>(self, en: T, ja: T) -> T {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(text: &str) -> Result<Lang, String> {
        match text.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ja" => Ok(Lang::Ja),
            _ => Err(format!(
                "'{text}' is not a language gsoc speaks; write en or ja"
            )),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_times_are_in_tokyo_and_codes_round_trip() {
        let t: Timestamp = "2024-03-31T15:30:00Z".parse().expect("valid");
        assert_eq!(Lang::Ja.format_time(Some(t)), "2024-04-01 00:30:00 JST");
        assert_eq!(Lang::En.format_time(Some(t)), "2024-03-31 15:30:00 UTC");
        assert_eq!(Lang::Ja.level(Level::Critical), "重大");
        assert_eq!(Lang::of_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::of_locale("C.UTF-8"), Lang::En);
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
        }
        assert!("fr".parse::<Lang>().unwrap_err().contains("en or ja"));
    }
}
