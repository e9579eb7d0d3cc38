//! The command-line tests, built as one binary (as ripgrep does) so the
//! helpers in `util` are shared.

mod beacons;
mod cli;
mod corpora;
mod correlation;
mod golden;
mod intel;
mod mail;
mod planting;
mod triage;
mod util;
