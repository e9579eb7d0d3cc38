//! Finding indicators in events: an index built once, looked up for every
//! value an event carries.
//!
//! Addresses are looked up in hash maps and networks in a prefix trie
//! (every network that covers the address, not a scan); domain names as
//! themselves and each parent; everything else (URLs, e-mail addresses,
//! hashes, JA3, user agents) in one hash table per type. Before any of
//! that, a screen turns away the events whose addresses and names hit
//! nothing, which in real logs is nearly all of them.

mod index;
mod screen;
mod session;
#[cfg(test)]
mod tests;

pub use index::{Hit, Matcher, MatcherBuilder};
pub use session::{Session, level};

use session::{lower, parse_ip};
