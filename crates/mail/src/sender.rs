//! Who a message claims to be from: authentication results, mismatched
//! sender addresses, display names that impersonate protected names, and
//! domains that look like protected ones.

use serde::{Deserialize, Serialize};

use crate::links::registrable;

/// What the centre protects: names and domains that must not be imitated.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protected {
    /// Organisation and brand names, as a display name would show them.
    pub names: Vec<String>,
    /// Domains whose look-alikes are suspicious (`example.go.jp`).
    pub domains: Vec<String>,
    /// The names and domains in the forms they are compared in, made on
    /// first use.
    #[serde(skip)]
    prepared: std::sync::OnceLock<Prepared>,
}

/// Protected names and domains as they are compared.
#[derive(Clone, Debug, Default)]
struct Prepared {
    /// Each name folded, its look-alike skeleton, and folded without spaces.
    names: Vec<(String, String)>,
    /// Each domain's registrable part, its skeleton and its first label.
    domains: Vec<(String, String, String)>,
}

impl Protected {
    fn prepared(&self) -> &Prepared {
        self.prepared.get_or_init(|| Prepared {
            names: self
                .names
                .iter()
                .map(|n| {
                    let folded = fold(n);
                    (skeleton(&folded), folded.replace(' ', ""))
                })
                .collect(),
            domains: self
                .domains
                .iter()
                .map(|d| {
                    let theirs = registrable(d);
                    let label = theirs.split('.').next().unwrap_or("").to_owned();
                    (skeleton(&theirs), label, theirs)
                })
                .collect(),
        })
    }
}

/// A protected-names file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtectedError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// Where and why.
        source: toml::de::Error,
    },
}

impl Protected {
    /// The well-known names and domains, plus those of a TOML file with
    /// `names = [...]` and `domains = [...]` (the centre's own
    /// organisations).
    pub fn well_known_and(path: &std::path::Path) -> Result<Protected, ProtectedError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProtectedError::Read {
            path: path.to_owned(),
            source,
        })?;
        let extra: Protected = toml::from_str(&text).map_err(|source| ProtectedError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let mut all = Protected::well_known();
        all.names.extend(extra.names);
        all.domains.extend(extra.domains);
        Ok(all)
    }

    /// The names and domains phishing imitates most often, used when no
    /// configuration is given.
    pub fn well_known() -> Protected {
        let pairs = [
            ("Microsoft", "microsoft.com"),
            ("Office 365", "office.com"),
            ("Outlook", "outlook.com"),
            ("Apple", "apple.com"),
            ("iCloud", "icloud.com"),
            ("PayPal", "paypal.com"),
            ("Amazon", "amazon.com"),
            ("Netflix", "netflix.com"),
            ("Google", "google.com"),
            ("DHL", "dhl.com"),
            ("FedEx", "fedex.com"),
            ("Facebook", "facebook.com"),
            ("Instagram", "instagram.com"),
            ("LinkedIn", "linkedin.com"),
            ("DocuSign", "docusign.net"),
            ("Dropbox", "dropbox.com"),
            ("Wells Fargo", "wellsfargo.com"),
            ("Chase", "chase.com"),
            ("Coinbase", "coinbase.com"),
            ("Binance", "binance.com"),
            ("MetaMask", "metamask.io"),
            ("WhatsApp", "whatsapp.com"),
            ("Rakuten", "rakuten.co.jp"),
            ("Mercari", "mercari.com"),
            ("Bradesco", "bradesco.com.br"),
            ("Itaú", "itau.com.br"),
            ("Caixa", "caixa.gov.br"),
            ("Banco do Brasil", "bb.com.br"),
            ("Correios", "correios.com.br"),
            ("Santander", "santander.com.br"),
            ("Nubank", "nubank.com.br"),
            ("Mercado Livre", "mercadolivre.com.br"),
            ("Ledger", "ledger.com"),
            ("Trust Wallet", "trustwallet.com"),
            ("Exodus", "exodus.com"),
            ("Stellar", "stellar.org"),
            ("Lido", "lido.fi"),
            ("Kraken", "kraken.com"),
            ("Crypto.com", "crypto.com"),
            ("Netflix", "netflix.com"),
            ("Spotify", "spotify.com"),
            ("Steam", "steampowered.com"),
            ("UPS", "ups.com"),
            ("USPS", "usps.com"),
            ("Royal Mail", "royalmail.com"),
            ("Yamato", "kuronekoyamato.co.jp"),
            ("Sagawa", "sagawa-exp.co.jp"),
            ("Japan Post", "japanpost.jp"),
            ("McAfee", "mcafee.com"),
            ("Norton", "norton.com"),
            ("Costco", "costco.com"),
            ("Walmart", "walmart.com"),
            ("Mastercard", "mastercard.com"),
            ("Visa", "visa.com"),
            ("American Express", "americanexpress.com"),
            ("Bank of America", "bankofamerica.com"),
            ("Citibank", "citi.com"),
            ("HSBC", "hsbc.com"),
            ("ING", "ing.com"),
            ("Itaucard", "itau.com.br"),
            ("ADAC", "adac.de"),
            ("Telekom", "telekom.de"),
            ("ELSTER", "elster.de"),
            ("IRS", "irs.gov"),
            ("Adobe", "adobe.com"),
            ("OneDrive", "onedrive.com"),
            ("SharePoint", "sharepoint.com"),
            ("WeTransfer", "wetransfer.com"),
            ("AT&T", "att.com"),
            ("Verizon", "verizon.com"),
            ("eBay", "ebay.com"),
            ("Booking.com", "booking.com"),
            ("Airbnb", "airbnb.com"),
            ("SMBC", "smbc.co.jp"),
            ("MUFG", "mufg.jp"),
            ("Mizuho", "mizuhobank.co.jp"),
            ("Aeon", "aeon.co.jp"),
            ("JCB", "jcb.co.jp"),
            ("NTT Docomo", "docomo.ne.jp"),
            ("Banco Central", "bcb.gov.br"),
            ("Receita Federal", "gov.br"),
            ("GovBR", "gov.br"),
            ("BB", "bb.com.br"),
            ("Ourocard", "bb.com.br"),
            ("Serasa", "serasa.com.br"),
            ("Lidl", "lidl.de"),
            ("Vodafone", "vodafone.de"),
            ("Otto", "otto.de"),
            ("DPD", "dpd.de"),
            ("Zalando", "zalando.de"),
            ("Bol.com", "bol.com"),
            ("Albert Heijn", "ah.nl"),
            ("Sirius XM", "siriusxm.com"),
            ("Cash App", "cash.app"),
            ("SoftBank", "softbank.jp"),
            ("e-Tax", "e-tax.nta.go.jp"),
        ];
        Protected {
            names: pairs.iter().map(|(n, _)| n.to_string()).collect(),
            domains: pairs.iter().map(|(_, d)| d.to_string()).collect(),
            prepared: std::sync::OnceLock::new(),
        }
    }
}

/// The results a receiving server recorded (Authentication-Results).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    /// SPF: pass, fail, softfail, neutral, none, temperror, permerror.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spf: Option<String>,
    /// DKIM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dkim: Option<String>,
    /// DMARC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<String>,
}

impl AuthResults {
    /// Reads `spf=`, `dkim=` and `dmarc=` from Authentication-Results (and
    /// ARC-Authentication-Results) header values; the first result of each
    /// method wins, as the topmost header is the nearest receiver.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> AuthResults {
        let mut results = AuthResults::default();
        for value in values {
            for part in value.split([';', ' ', '\t', '\r', '\n']) {
                let Some((method, result)) = part.split_once('=') else {
                    continue;
                };
                let result = result.trim().trim_matches(['(', ')']).to_ascii_lowercase();
                let slot = match method.trim().to_ascii_lowercase().as_str() {
                    "spf" => &mut results.spf,
                    "dkim" => &mut results.dkim,
                    "dmarc" => &mut results.dmarc,
                    _ => continue,
                };
                if slot.is_none() && !result.is_empty() {
                    *slot = Some(result);
                }
            }
        }
        results
    }

    /// The methods that failed.
    pub fn failures(&self) -> Vec<&'static str> {
        let failed = |r: &Option<String>| {
            r.as_deref()
                .is_some_and(|r| matches!(r, "fail" | "softfail" | "permerror"))
        };
        [
            ("spf", &self.spf),
            ("dkim", &self.dkim),
            ("dmarc", &self.dmarc),
        ]
        .into_iter()
        .filter(|(_, r)| failed(r))
        .map(|(m, _)| m)
        .collect()
    }
}

/// The domain of an address, lower case.
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().trim_matches(['<', '>']).rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// A protected name a display name (or subject) shows while the address is
/// not the protected organisation's.
pub fn impersonated_name<'p>(
    display: &str,
    from_domain: &str,
    protected: &'p Protected,
) -> Option<&'p str> {
    let display = skeleton(&fold(display));
    let from_registrable = registrable(from_domain);
    let prepared = protected.prepared();
    prepared
        .names
        .iter()
        .enumerate()
        .find_map(|(i, (look, joined))| {
            let shown = contains_word(&display, look);
            let owned = protected.domains.get(i).is_some_and(|d| {
                registrable(d) == from_registrable || from_domain.ends_with(d.as_str())
            });
            let own_name = from_registrable.starts_with(joined.as_str());
            (shown && !owned && !own_name).then_some(protected.names[i].as_str())
        })
}

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// A protected domain a sender's domain imitates (not the domain itself):
/// the same after undoing punycode and look-alike characters, or one edit
/// away (for names of five letters or more).
pub fn lookalike_of<'p>(domain: &str, protected: &'p Protected) -> Option<&'p str> {
    let mine = registrable(domain);
    let unicode = idna::domain_to_unicode(&mine).0;
    let look = skeleton(&unicode);
    let look_label = look.split('.').next().unwrap_or("");
    let prepared = protected.prepared();
    let found = prepared
        .domains
        .iter()
        .position(|(their_look, label, theirs)| {
            if mine == *theirs {
                return false;
            }
            let near = label.len() >= 5
                && look_label.len().abs_diff(label.len()) <= 1
                && look_label != label
                && strsim::damerau_levenshtein(look_label, label) <= 1;
            look == *their_look || near
        });
    found.map(|i| protected.domains[i].as_str())
}

/// A name with look-alike characters replaced by the ASCII letters they
/// imitate. Written by hand: the Unicode confusables table is large and no
/// small crate carries it; these are the substitutions phishing domains use.
fn skeleton(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        let mapped = match c {
            'а' | 'ɑ' | 'α' => "a",
            'е' | 'ε' => "e",
            'о' | 'ο' | '0' => "o",
            'р' | 'ρ' => "p",
            'с' | 'ϲ' => "c",
            'х' | 'χ' => "x",
            'у' | 'γ' => "y",
            'і' | 'ı' | 'ι' | '1' | 'i' | 'l' | '|' => "l",
            'ј' => "j",
            'ѕ' => "s",
            'ԁ' => "d",
            'ɡ' => "g",
            'ո' => "n",
            'ν' => "v",
            'ш' => "w",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(mapped);
    }
    out.replace("rn", "m").replace("vv", "w")
}

/// Lower case with accents and punctuation folded, for comparing names.
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' | 'ã' | 'â' | 'Á' | 'À' | 'Ã' | 'Â' => 'a',
            'é' | 'ê' | 'É' | 'Ê' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'õ' | 'ô' | 'Ó' | 'Õ' | 'Ô' => 'o',
            'ú' | 'Ú' => 'u',
            'ç' | 'Ç' => 'c',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_results_are_read_per_method() {
        let auth = AuthResults::parse([
            "mx.example; spf=softfail (sender not permitted) smtp.mailfrom=a@b.example; dkim=none; dmarc=fail header.from=b.example",
        ]);
        assert_eq!(auth.spf.as_deref(), Some("softfail"));
        assert_eq!(auth.dkim.as_deref(), Some("none"));
        assert_eq!(auth.failures(), vec!["spf", "dmarc"]);
    }

    #[test]
    fn display_names_and_lookalikes() {
        let protected = Protected::well_known();
        assert_eq!(
            impersonated_name(
                "Microsoft account team",
                "access-accsecurity.com",
                &protected
            ),
            Some("Microsoft")
        );
        assert_eq!(
            impersonated_name("Microsoft", "email.microsoft.com", &protected),
            None
        );
        assert_eq!(
            impersonated_name("Chaser Bob", "x.example", &protected),
            None
        );
        assert_eq!(lookalike_of("paypa1.com", &protected), Some("paypal.com"));
        assert_eq!(
            lookalike_of("xn--pypal-4ve.com", &protected),
            Some("paypal.com")
        );
        assert_eq!(
            lookalike_of("rnicrosoft.com", &protected),
            Some("microsoft.com")
        );
        assert_eq!(lookalike_of("paypal.com", &protected), None);
        assert_eq!(lookalike_of("example.org", &protected), None);
    }
}
