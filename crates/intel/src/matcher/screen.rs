//! The screen every event passes before its values are gathered: can any
//! value of its anchor fields hit an indicator at all? In real logs nearly
//! every event is turned away here, at the cost of reading its addresses
//! and names once.

use std::hash::BuildHasher;

use gsoc_event::Event;
use rustc_hash::FxBuildHasher;

use super::index::Matcher;
use super::session::{Host, Picks, Probe, for_each_text, host_of, parse_ip};

/// How many texts [`ClearTexts`] remembers (a power of two).
const CLEAR_SLOTS: usize = 4096;

/// The longest text [`ClearTexts`] remembers: every address and most host
/// names.
const CLEAR_LONGEST: usize = 46;

/// Turns away events that can hit nothing; one per matching session.
#[derive(Debug)]
pub(super) struct Screen {
    clear: ClearTexts,
}

impl Default for Screen {
    fn default() -> Self {
        Screen {
            clear: ClearTexts::new(),
        }
    }
}

impl Screen {
    /// Whether some value of the picked fields may hit an indicator.
    /// Addresses and host names are looked up; any other value (a URL, a
    /// hash, an e-mail address) passes, to be looked up in full.
    pub(super) fn passes(&mut self, matcher: &Matcher, event: &Event, picks: &Picks) -> bool {
        picks.iter().any(|&(i, (probe, _, _))| {
            let Some((_, value)) = event.fields.at(i) else {
                return false;
            };
            let mut hit = false;
            for_each_text(value, &mut |text| {
                hit = hit || self.text_passes(matcher, probe, text);
            });
            hit
        })
    }

    fn text_passes(&mut self, matcher: &Matcher, probe: Probe, text: &str) -> bool {
        let as_host = match probe {
            Probe::Ip => false,
            Probe::Host | Probe::UrlHost => true,
            _ => return true,
        };
        let slot = ClearTexts::slot(text, as_host);
        if slot.is_some_and(|slot| self.clear.holds(slot, text, as_host)) {
            return false;
        }
        let listed = if as_host {
            match host_of(text) {
                Some(Host::Ip(ip)) => matcher.lists_ip(ip),
                Some(Host::Name(name)) => matcher.lists_domain(&name),
                None => false,
            }
        } else {
            parse_ip(text).is_some_and(|ip| matcher.lists_ip(ip))
        };
        if let (false, Some(slot)) = (listed, slot) {
            self.clear.insert(slot, text, as_host);
        }
        listed
    }
}

/// Field texts, exactly as written, that hit no indicator: logs name the
/// same few addresses and hosts again and again, and finding one here
/// costs less than parsing it and reaching into an index of a million
/// values (a miss in memory for each part of a host name). Direct-mapped
/// (a new text takes its slot's place), fixed in size and allocation-free,
/// which the general caching crates are not; written by hand for that.
/// Texts are compared whole, so a text is never taken for another.
#[derive(Debug)]
struct ClearTexts {
    slots: Box<[Slot]>,
}

/// A remembered text: its bytes (zero-padded), its length (0 for an empty
/// slot) and how it was read (as an address only, or as a host that may
/// also be a name).
#[derive(Clone, Copy, Debug)]
struct Slot {
    bytes: [u8; CLEAR_LONGEST],
    len: u8,
    as_host: bool,
}

impl Slot {
    const EMPTY: Slot = Slot {
        bytes: [0; CLEAR_LONGEST],
        len: 0,
        as_host: false,
    };
}

impl ClearTexts {
    fn new() -> Self {
        ClearTexts {
            slots: vec![Slot::EMPTY; CLEAR_SLOTS].into_boxed_slice(),
        }
    }

    /// The slot of a text short enough to remember.
    fn slot(text: &str, as_host: bool) -> Option<usize> {
        (!text.is_empty() && text.len() <= CLEAR_LONGEST).then(|| {
            let hash = FxBuildHasher.hash_one((text, as_host));
            (hash >> 52) as usize % CLEAR_SLOTS
        })
    }

    fn holds(&self, slot: usize, text: &str, as_host: bool) -> bool {
        let kept = &self.slots[slot];
        usize::from(kept.len) == text.len()
            && kept.as_host == as_host
            && &kept.bytes[..text.len()] == text.as_bytes()
    }

    fn insert(&mut self, slot: usize, text: &str, as_host: bool) {
        let kept = &mut self.slots[slot];
        kept.bytes[..text.len()].copy_from_slice(text.as_bytes());
        kept.len = text.len() as u8;
        kept.as_host = as_host;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_told_apart_by_every_byte_and_by_reading() {
        let mut clear = ClearTexts::new();
        let remember = |clear: &mut ClearTexts, text, as_host| {
            let slot = ClearTexts::slot(text, as_host).expect("a slot");
            clear.insert(slot, text, as_host);
        };
        let holds = |clear: &ClearTexts, text, as_host| {
            ClearTexts::slot(text, as_host).is_some_and(|slot| clear.holds(slot, text, as_host))
        };
        remember(&mut clear, "10.20.30.40", false);
        remember(&mut clear, "www.example.org", true);
        assert!(holds(&clear, "10.20.30.40", false));
        assert!(holds(&clear, "www.example.org", true));
        for (text, as_host) in [
            ("10.20.30.4", false),
            ("10.20.30.40", true),
            ("www.example.org", false),
            ("www.example.orgx", true),
            ("www.example.or", true),
        ] {
            assert!(!holds(&clear, text, as_host), "{text} {as_host}");
        }
        assert!(ClearTexts::slot("", true).is_none());
        assert!(ClearTexts::slot(&"a".repeat(CLEAR_LONGEST + 1), true).is_none());
        assert!(ClearTexts::slot(&"a".repeat(CLEAR_LONGEST), true).is_some());
    }
}
