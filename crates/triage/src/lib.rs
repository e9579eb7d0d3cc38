//! Triage: what detections mean.
//!
//! * [`Triage`] turns detections into alerts with a [`Category`], a
//!   verdict (`vigilance` or `noise`), the reason for it and a severity,
//!   under a [`Policy`] (TOML, over the shipped [`DEFAULT_POLICY`]).
//! * [`sensor_alert`] takes the alerts sensors raised themselves (Suricata,
//!   Zeek notices) in as detections.
//! * [`BeaconFinder`] finds internal hosts calling out at regular
//!   intervals; [`ProbeFinder`] finds sources whose connection attempts
//!   internal hosts never answered. Both read [`Flow`]s.
#![deny(missing_docs)]

mod beacon;
mod capped;
mod category;
mod flow;
mod judge;
mod policy;
mod probe;
mod sensor;
mod target;

pub use beacon::{Beacon, BeaconFinder, BeaconSettings};
pub use category::{Category, categorise};
pub use flow::{Flow, Networks, WebRequest, flow, web_request};
pub use judge::{LogonSuccess, Triage};
pub use policy::{Asset, CategoryMaps, DEFAULT_POLICY, Policy, PolicyError, Suppression};
pub use probe::ProbeFinder;
pub use sensor::sensor_alert;
