//! Triage: what detections and connections mean for the analyst.
//!
//! This first part finds beaconing — one internal host calling one external
//! destination at regular intervals, the way implants check in with their
//! command-and-control servers — in connection logs (Zeek `conn`, Suricata
//! EVE `flow`). Categories, verdicts and severity come next.

pub mod beacon;

pub use beacon::{Beacon, BeaconFinder, BeaconSettings, Connection, connection};
