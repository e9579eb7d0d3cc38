//! Suspicious mail counted by Japanese fiscal year (April to March) and
//! month, by class: the figures behind the national plan's e-mail trend
//! chart. The counting lives here so that the server can reuse it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::classify::Class;

/// Japan's offset from UTC. Japan has kept +09:00 all year since 1952, so a
/// fixed offset is exact for every date a mail can carry.
const JST_SECONDS: i64 = 9 * 3600;

/// A fiscal year and a month of it: FY2020 runs from April 2020 to March
/// 2021.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FiscalMonth {
    /// The fiscal year (the calendar year it starts in).
    pub fiscal_year: i32,
    /// The calendar year of the month.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u8,
}

impl FiscalMonth {
    /// The fiscal month a moment falls in, in Japan.
    pub fn of(time: Timestamp) -> FiscalMonth {
        let local = time.as_second().saturating_add(JST_SECONDS);
        let date = Timestamp::from_second(local)
            .unwrap_or(time)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let (year, month) = (i32::from(date.year()), date.month() as u8);
        FiscalMonth {
            fiscal_year: if month >= 4 { year } else { year - 1 },
            year,
            month,
        }
    }
}

/// Counts by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Attachment type.
    pub attachment: u64,
    /// URL type.
    pub url: u64,
    /// Phishing.
    pub phishing: u64,
    /// Business e-mail compromise.
    pub bec: u64,
    /// Spam.
    pub spam: u64,
    /// Benign (not counted as suspicious).
    pub benign: u64,
}

impl Counts {
    /// Adds one message.
    pub fn add(&mut self, class: Class) {
        *self.slot(class) += 1;
    }

    /// The count of one class.
    pub fn get(&self, class: Class) -> u64 {
        match class {
            Class::Attachment => self.attachment,
            Class::Url => self.url,
            Class::Phishing => self.phishing,
            Class::Bec => self.bec,
            Class::Spam => self.spam,
            Class::Benign => self.benign,
        }
    }

    fn slot(&mut self, class: Class) -> &mut u64 {
        match class {
            Class::Attachment => &mut self.attachment,
            Class::Url => &mut self.url,
            Class::Phishing => &mut self.phishing,
            Class::Bec => &mut self.bec,
            Class::Spam => &mut self.spam,
            Class::Benign => &mut self.benign,
        }
    }

    /// The suspicious messages: every class but benign.
    pub fn suspicious(&self) -> u64 {
        self.attachment + self.url + self.phishing + self.bec + self.spam
    }

    fn merge(&mut self, other: &Counts) {
        for class in Class::ALL {
            *self.slot(class) += other.get(class);
        }
    }
}

/// Messages counted by fiscal month, with totals per fiscal year.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Per fiscal month.
    pub months: BTreeMap<FiscalMonth, Counts>,
    /// Messages without a usable date.
    pub undated: Counts,
}

impl Stats {
    /// Counts one message.
    pub fn add(&mut self, date: Option<Timestamp>, class: Class) {
        match date {
            Some(t) => self
                .months
                .entry(FiscalMonth::of(t))
                .or_default()
                .add(class),
            None => self.undated.add(class),
        }
    }

    /// Totals per fiscal year.
    pub fn fiscal_years(&self) -> BTreeMap<i32, Counts> {
        let mut years: BTreeMap<i32, Counts> = BTreeMap::new();
        for (month, counts) in &self.months {
            years.entry(month.fiscal_year).or_default().merge(counts);
        }
        years
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_start_in_april_in_japan() {
        // 2021-03-31 15:30 UTC is already 1 April in Tokyo: FY2021.
        let april = FiscalMonth::of("2021-03-31T15:30:00Z".parse().unwrap());
        assert_eq!(
            (april.fiscal_year, april.year, april.month),
            (2021, 2021, 4)
        );
        let march = FiscalMonth::of("2021-03-31T14:30:00Z".parse().unwrap());
        assert_eq!((march.fiscal_year, march.month), (2020, 3));
        let mut stats = Stats::default();
        stats.add(
            Some("2020-05-01T00:00:00Z".parse().unwrap()),
            Class::Attachment,
        );
        stats.add(Some("2021-02-01T00:00:00Z".parse().unwrap()), Class::Url);
        stats.add(None, Class::Phishing);
        let years = stats.fiscal_years();
        assert_eq!(years[&2020].suspicious(), 2);
        assert_eq!(stats.undated.phishing, 1);
    }
}
