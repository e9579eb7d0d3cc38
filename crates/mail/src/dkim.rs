//! DKIM signatures verified with mail-auth: the signed headers and body
//! hashed again and checked against the key the signing domain publishes in
//! DNS. Keys can also be given beforehand (a partner's published key, or a
//! test key), and are then not looked up.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};
use serde::Serialize;

/// One DKIM signature, verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimCheck {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The key selector (`s=`).
    pub selector: String,
    /// `pass`, `fail`, `neutral`, `permerror`, `temperror` or `none`.
    pub result: &'static str,
    /// Why, when it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Keys known beforehand, by DNS name (`selector._domainkey.domain.`).
#[derive(Default)]
struct KnownKeys(Mutex<HashMap<Box<str>, Txt>>);

impl ResolverCache<Box<str>, Txt> for KnownKeys {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.get(name).cloned()
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.remove(name)
    }

    fn insert(&self, name: Box<str>, value: Txt, _valid_until: std::time::Instant) {
        if let Ok(mut keys) = self.0.lock() {
            keys.insert(name, value);
        }
    }
}

/// Verifies DKIM signatures, one message at a time.
pub struct DkimVerifier {
    authenticator: MessageAuthenticator,
    runtime: tokio::runtime::Runtime,
    keys: KnownKeys,
}

impl std::fmt::Debug for DkimVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DkimVerifier")
    }
}

impl DkimVerifier {
    /// A verifier that looks keys up with the system's DNS resolver
    /// (`/etc/resolv.conf`).
    pub fn system() -> Result<DkimVerifier, String> {
        let authenticator = MessageAuthenticator::new_system_conf()
            .map_err(|e| format!("cannot set up DNS for DKIM: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the DNS runtime: {e}"))?;
        Ok(DkimVerifier {
            authenticator,
            runtime,
            keys: KnownKeys::default(),
        })
    }

    /// Gives a domain's key beforehand: `record` is its DNS TXT record
    /// (`v=DKIM1; k=ed25519; p=…`).
    pub fn add_key(&self, selector: &str, domain: &str, record: &str) -> Result<(), String> {
        let key = DomainKey::parse(record.as_bytes())
            .map_err(|e| format!("not a DKIM key record: {e}"))?;
        let name = format!("{selector}._domainkey.{}.", domain.trim_end_matches('.'));
        self.keys.insert(
            name.into_boxed_str(),
            Txt::from(key),
            std::time::Instant::now(),
        );
        Ok(())
    }

    /// Verifies every DKIM signature of a raw message.
    pub fn verify(&self, raw: &[u8]) -> Vec<DkimCheck> {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Vec::new();
        };
        let params = Parameters::new(&message).with_txt_cache(&self.keys);
        let outputs = self
            .runtime
            .block_on(self.authenticator.verify_dkim(params));
        outputs
            .iter()
            .map(|output| {
                let (domain, selector) = output
                    .signature()
                    .map(|s| (s.d.clone(), s.s.clone()))
                    .unwrap_or_default();
                let (result, reason) = match output.result() {
                    DkimResult::Pass => ("pass", None),
                    DkimResult::Fail(e) => ("fail", Some(e.to_string())),
                    DkimResult::Neutral(e) => ("neutral", Some(e.to_string())),
                    DkimResult::PermError(e) => ("permerror", Some(e.to_string())),
                    DkimResult::TempError(e) => ("temperror", Some(e.to_string())),
                    DkimResult::None => ("none", None),
                };
                DkimCheck {
                    domain,
                    selector,
                    result,
                    reason,
                }
            })
            .collect()
    }
}
