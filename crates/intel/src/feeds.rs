//! CSV feeds (the abuse.ch layout, `value,type` rows) and plain lists of
//! values, one per line (maltrail's trails).

use std::path::Path;
use std::sync::Arc;

use crate::import::Imported;
use crate::model::{Indicator, Kind, Observable, Role};
use crate::normalize::{self, Inferred};

/// Imports a plain list: one value per line, `#` starting a comment (at the
/// start of a line, or after a space), types inferred. The file's name is a
/// label; in a folder named `malware` it is also the malware family.
pub fn import_list(path: &Path, text: &str, source: &Arc<str>) -> Imported {
    let file = path.display().to_string();
    let list_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let family = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p.eq_ignore_ascii_case("malware"))
        .then(|| list_name.clone());
    let mut imported = Imported::default();
    imported.indicators.reserve(text.lines().count());
    for (n, line) in text.lines().enumerate() {
        let value = strip_comment(line);
        if value.is_empty() {
            continue;
        }
        if value.starts_with('/') {
            imported.skip("URL path without a host (gsoc matches URLs with their host)");
            continue;
        }
        match normalize::infer(value) {
            Ok(found) => {
                let mut indicator = indicator(found, source);
                indicator.labels.push(list_name.clone());
                indicator.malware.extend(family.clone());
                imported.indicators.push(indicator);
            }
            Err(reason) => imported.error(&file, format!("line {}", n + 1), reason),
        }
    }
    imported
}

/// The value part of a list line.
fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    let end = line
        .char_indices()
        .find(|&(i, c)| c == '#' && line[..i].ends_with(char::is_whitespace))
        .map_or(line.len(), |(i, _)| i);
    line[..end].trim()
}

fn indicator(found: Inferred, source: &Arc<str>) -> Indicator {
    let mut indicator = Indicator::simple(found.kind, found.value, Arc::clone(source));
    if !found.terms.is_empty() {
        indicator.id = crate::model::derived_id(
            source,
            found.kind,
            &crate::stix::pattern::render(&found.terms),
        );
        indicator.terms = found.terms;
    }
    indicator
}

/// Where each piece of a CSV feed row is.
#[derive(Debug, Default)]
struct Columns {
    value: Option<usize>,
    kind: Option<usize>,
    port: Option<usize>,
    first_seen: Option<usize>,
    last_seen: Option<usize>,
    malware: Option<usize>,
    tags: Option<usize>,
    confidence: Option<usize>,
}

impl Columns {
    /// Recognises a header row; `None` when the row is data.
    fn from_header(row: &csv::StringRecord) -> Option<Columns> {
        let mut columns = Columns::default();
        for (i, name) in row.iter().enumerate() {
            let name = name
                .trim()
                .trim_start_matches('#')
                .trim()
                .to_ascii_lowercase();
            let slot = match name.as_str() {
                "dst_ip" | "ip" | "ip_address" | "url" | "domain" | "ioc" | "ioc_value"
                | "indicator" | "value" | "sha256_hash" | "md5_hash" | "sha1_hash" | "hash" => {
                    &mut columns.value
                }
                "type" | "ioc_type" | "indicator_type" => &mut columns.kind,
                "dst_port" | "port" => &mut columns.port,
                "first_seen_utc" | "first_seen" | "dateadded" => &mut columns.first_seen,
                "last_online" | "last_seen" | "last_seen_utc" => &mut columns.last_seen,
                "malware" | "malware_printable" | "signature" | "threat" => &mut columns.malware,
                "tags" => &mut columns.tags,
                "confidence_level" | "confidence" => &mut columns.confidence,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        columns.value.is_some().then_some(columns)
    }

    /// `value,type` rows without a header.
    fn headerless(width: usize) -> Columns {
        Columns {
            value: Some(0),
            kind: (width > 1).then_some(1),
            ..Columns::default()
        }
    }
}

/// Imports a CSV feed. A header row (also as the last `#` comment line
/// before the data, as URLhaus writes it) names the columns; without one
/// the rows are `value,type` or just `value`.
pub fn import_csv(file: &str, text: &str, source: &Arc<str>) -> Imported {
    let mut imported = Imported::default();
    let header_comment = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .filter(|l| l.contains(','))
        .last()
        .map(|l| l.trim_start().trim_start_matches('#').to_owned());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut columns = header_comment
        .as_deref()
        .and_then(|h| {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(h.as_bytes())
                .records()
                .next()?
                .ok()
        })
        .and_then(|r| Columns::from_header(&r));
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                imported.error(file, format!("line {line}"), e.to_string());
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if columns.is_none() {
            let header = Columns::from_header(&record)
                .filter(|_| record.iter().all(|cell| normalize::infer(cell).is_err()));
            let is_header = header.is_some();
            columns = Some(header.unwrap_or_else(|| Columns::headerless(record.len())));
            if is_header {
                continue;
            }
        }
        if let Some(columns) = &columns {
            add_row(file, line, &record, columns, source, &mut imported);
        }
    }
    imported
}

fn add_row(
    file: &str,
    line: u64,
    record: &csv::StringRecord,
    columns: &Columns,
    source: &Arc<str>,
    imported: &mut Imported,
) {
    let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|s| !s.is_empty());
    let Some(value) = cell(columns.value) else {
        imported.error(file, format!("line {line}"), "the row has no value");
        return;
    };
    let found = match cell(columns.kind) {
        Some(kind) => typed(kind, value),
        None => normalize::infer(value),
    };
    let found = match (found, cell(columns.port)) {
        (Ok(found), Some(port)) if matches!(found.kind, Kind::Ipv4 | Kind::Ipv6) => {
            with_port(found, port)
        }
        (found, _) => found,
    };
    match found {
        Ok(found) => {
            let mut indicator = indicator(found, source);
            indicator.first_seen = cell(columns.first_seen).and_then(gsoc_event::time::parse_time);
            indicator.last_seen = cell(columns.last_seen).and_then(gsoc_event::time::parse_time);
            indicator
                .malware
                .extend(cell(columns.malware).map(str::to_owned));
            indicator.labels.extend(
                cell(columns.tags)
                    .into_iter()
                    .flat_map(|t| t.split([',', ' ']))
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            );
            indicator.confidence = cell(columns.confidence)
                .and_then(|c| c.parse::<u8>().ok())
                .map(|c| c.min(100));
            imported.indicators.push(indicator);
        }
        Err(reason) => imported.error(file, format!("line {line}"), reason),
    }
}

fn with_port(found: Inferred, port: &str) -> Result<Inferred, String> {
    let port = normalize::value(Kind::Port, port)?;
    Ok(Inferred {
        terms: vec![vec![
            Observable::new(found.kind, found.value.clone()).with_role(Role::Destination),
            Observable::new(Kind::Port, port).with_role(Role::Destination),
        ]],
        ..found
    })
}

/// A value with a type column: MISP, ThreatFox and gsoc type names.
fn typed(kind: &str, value: &str) -> Result<Inferred, String> {
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "ip:port" | "ip-dst|port" => return normalize::infer(value),
        "ip" | "ipv4" | "ipv6" | "ip-dst" | "ip-src" | "ip_address" => {
            return normalize::infer(value).and_then(|f| {
                if matches!(f.kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr) {
                    Ok(f)
                } else {
                    Err(format!("'{value}' is not an IP address"))
                }
            });
        }
        "domain" | "hostname" | "domain-name" => Kind::Domain,
        "url" | "uri" | "link" => Kind::Url,
        "email" | "email-src" | "email-addr" => Kind::Email,
        "md5" | "md5_hash" => Kind::Md5,
        "sha1" | "sha1_hash" => Kind::Sha1,
        "sha256" | "sha256_hash" => Kind::Sha256,
        "ja3" | "ja3-fingerprint-md5" => Kind::Ja3,
        "user-agent" | "useragent" => Kind::UserAgent,
        other => other.parse::<Kind>()?,
    };
    Ok(Inferred {
        kind,
        value: normalize::value(kind, value)?,
        terms: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_infer_types_and_skip_comments() {
        let text = "# Copyright\n\n# Reference: https://example.org/#x\nevil.example\n118.107.0.147:8080\n5.63.151.0/24 # scanners\nhttp://evil.example/gate.php#frag\n/web_shell.php\nnot a value\n";
        let imported = import_list(
            Path::new("trails/malware/emotet.txt"),
            text,
            &Arc::from("maltrail"),
        );
        let kinds: Vec<Kind> = imported.indicators.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, [Kind::Domain, Kind::Ipv4, Kind::Cidr, Kind::Url]);
        assert_eq!(imported.indicators[0].malware, vec!["emotet"]);
        assert_eq!(imported.indicators[0].labels, vec!["emotet"]);
        assert_eq!(imported.indicators[1].terms[0].len(), 2);
        assert_eq!(imported.indicators[3].value, "evil.example/gate.php");
        assert_eq!(imported.errors.len(), 1);
        assert_eq!(imported.errors[0].place, "line 9");
        assert_eq!(imported.skipped.values().sum::<usize>(), 1);
    }

    #[test]
    fn abusech_csv() {
        let text = "####\n# abuse.ch Feodo Tracker\n####\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\"2023-05-23 17:51:44\",\"192.9.135.73\",\"1194\",\"online\",\"2024-04-01\",\"Pikabot\"\n\"2024-02-08 19:20:49\",\"bad-ip\",\"5000\",\"offline\",\"2024-03-11\",\"Pikabot\"\n";
        let imported = import_csv("feodo.csv", text, &Arc::from("feodo"));
        assert_eq!(imported.indicators.len(), 1, "{:?}", imported.errors);
        let c2 = &imported.indicators[0];
        assert_eq!(c2.value, "192.9.135.73");
        assert_eq!(
            c2.terms[0][1],
            Observable::new(Kind::Port, "1194").with_role(Role::Destination)
        );
        assert_eq!(c2.malware, vec!["Pikabot"]);
        assert_eq!(c2.first_seen, "2023-05-23T17:51:44Z".parse().ok());
        assert_eq!(c2.last_seen, "2024-04-01T00:00:00Z".parse().ok());
        assert_eq!(imported.errors[0].place, "line 6");
    }

    #[test]
    fn value_type_csv() {
        let text = "evil.example,domain\n192.0.2.1,ip-dst\ne7d705a3286e19ea42f587b344ee6865,ja3\nx,sha256\n";
        let imported = import_csv("list.csv", text, &Arc::from("partner"));
        let kinds: Vec<Kind> = imported.indicators.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, [Kind::Domain, Kind::Ipv4, Kind::Ja3]);
        assert_eq!(imported.errors[0].place, "line 4");
    }
}
