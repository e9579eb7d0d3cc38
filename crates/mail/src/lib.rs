//! Suspicious e-mail for gsoc: messages read from `.eml`, mbox and Maildir
//! (or received over SMTP/LMTP), analysed (sender authentication and
//! impersonation, links, attachments judged by their bytes), classified as
//! the national plan counts them (attachment type, URL type, phishing,
//! business e-mail compromise, spam, benign) with a score and the reasons,
//! and counted by fiscal year and month.
//!
//! ```
//! use gsoc_mail::{Settings, analyse, source::split};
//!
//! let raw = b"From: PayPal <service@paypa1.com>\nSubject: Your account is locked\n\nVerify your password at http://203.0.113.7/login\n";
//! let message = &split(std::path::Path::new("m.eml"), raw.to_vec())[0];
//! let analysis = analyse(message, &Settings::default()).unwrap();
//! assert_eq!(analysis.class.as_str(), "phishing");
//! ```

pub mod analysis;
pub mod attachment;
pub mod classify;
pub mod dkim;
pub mod event;
pub mod links;
pub mod listen;
pub mod sender;
pub mod source;
pub mod stats;
mod words;

pub use analysis::{Analysis, Broken, Indicator, Settings, analyse};
pub use classify::{Class, Reason};
pub use sender::Protected;
