//! Attachments judged by their bytes, not their names: Office documents
//! with macros, encrypted archives, shortcuts, disk images, scripts,
//! executables, HTML smuggling and login pages, and a hash of each.

use std::io::{Cursor, Read};

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// What an attachment's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Content {
    /// A Windows or other native executable (MZ, ELF, Mach-O).
    Executable,
    /// An OLE compound file (legacy Office, MSI).
    Ole,
    /// An Office Open XML document (docx, xlsx, pptx and macro variants).
    Ooxml,
    /// A ZIP archive (not an Office document).
    Zip,
    /// A 7-Zip archive.
    SevenZip,
    /// A RAR archive.
    Rar,
    /// A gzip stream.
    Gzip,
    /// A Windows shortcut (.lnk).
    Shortcut,
    /// An ISO 9660 or UDF disk image.
    DiskImage,
    /// A PDF document.
    Pdf,
    /// An HTML page.
    Html,
    /// An HTML application, JScript, VBScript, a Windows Script File or a
    /// PowerShell or batch script.
    Script,
    /// An image.
    Image,
    /// Plain text.
    Text,
    /// Anything else.
    Other,
}

/// Something risky found in an attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "code")]
pub enum Finding {
    /// An Office document that carries VBA macros.
    Macros,
    /// An archive (or a PDF) whose content is encrypted; `password_in_body`
    /// when the message text gives a password (the Emotet pattern: scanners
    /// cannot open it, the recipient can).
    EncryptedArchive {
        /// Whether the body gives the password.
        password_in_body: bool,
    },
    /// A name that claims one type for bytes of another (`invoice.pdf`
    /// holding HTML or an unknown binary).
    NameMismatch {
        /// What the bytes are.
        content: Content,
    },
    /// An archive that holds a risky file.
    RiskyEntry {
        /// The entry's name.
        name: String,
    },
    /// A Windows shortcut.
    Shortcut,
    /// A disk image (mounting it bypasses Mark-of-the-Web).
    DiskImage,
    /// A script Windows runs on a double click.
    Script,
    /// An executable.
    Executable,
    /// A name like `invoice.pdf.exe`.
    DoubleExtension,
    /// An HTML page that builds a file in the browser (HTML smuggling).
    HtmlSmuggling,
    /// An HTML page with a password form.
    LoginForm,
    /// A PDF that runs something when opened: JavaScript, a launch
    /// action, an embedded file.
    PdfActive {
        /// The PDF names found (`/JavaScript`, `/Launch`, `/EmbeddedFile`).
        what: String,
    },
    /// A document whose content is a link to click (PDF link
    /// annotations, a link in an Office document).
    DocumentLink {
        /// The links.
        urls: Vec<String>,
    },
    /// An Office document that loads a template or object from the
    /// network when opened (remote template injection).
    RemoteTemplate {
        /// Where it loads from.
        url: String,
    },
}

/// One attachment, analysed.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    /// Its file name, when it has one.
    pub name: Option<String>,
    /// The MIME type the message declares.
    pub declared_type: String,
    /// What its bytes are.
    pub content: Content,
    /// Its size in bytes.
    pub size: usize,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-1, hex.
    pub sha1: String,
    /// What is risky about it.
    pub findings: Vec<Finding>,
}

/// Extensions Windows runs or opens in a risky way.
const RISKY_EXTENSIONS: &[&str] = &[
    "exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
    "lnk", "iso", "img", "vhd", "vhdx", "msi", "jar", "ps1", "dll", "cpl", "xll", "docm", "xlsm",
    "pptm", "dotm", "xlam", "one", "url", "reg", "chm", "appx", "msix",
];

/// Extensions of documents a double extension pretends to be.
const DECOY_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "txt", "jpg", "jpeg", "png", "rtf", "htm", "html", "zip",
];

/// Analyses one attachment; `body` is the message's text, searched for a
/// password when the attachment is an encrypted archive.
pub fn analyse(name: Option<&str>, declared_type: &str, bytes: &[u8], body: &str) -> Attachment {
    let content = sniff(bytes);
    let mut findings = Vec::new();
    match content {
        Content::Ole if ole_has_macros(bytes) => findings.push(Finding::Macros),
        Content::Ooxml => findings.extend(ooxml_findings(bytes)),
        Content::Pdf => {
            if memchr::memmem::find(bytes, b"/Encrypt").is_some() && password_given(body) {
                findings.push(Finding::EncryptedArchive {
                    password_in_body: true,
                });
            }
            findings.extend(pdf_findings(bytes));
        }
        Content::Zip | Content::SevenZip | Content::Rar => {
            archive_findings(content, bytes, body, &mut findings)
        }
        Content::Shortcut => findings.push(Finding::Shortcut),
        Content::DiskImage => findings.push(Finding::DiskImage),
        Content::Script => findings.push(Finding::Script),
        Content::Executable => findings.push(Finding::Executable),
        Content::Html => findings.extend(html_findings(bytes)),
        _ => {}
    }
    if let Some(name) = name {
        if !bytes.is_empty() && claims_other_content(name, content) {
            findings.push(Finding::NameMismatch { content });
        }
        if has_double_extension(name) {
            findings.push(Finding::DoubleExtension);
        }
        if findings.is_empty()
            && risky_name(name)
            && !matches!(content, Content::Image | Content::Pdf)
        {
            findings.push(Finding::RiskyEntry {
                name: name.to_owned(),
            });
        }
    }
    Attachment {
        name: name.map(str::to_owned),
        declared_type: declared_type.to_owned(),
        content,
        size: bytes.len(),
        sha256: hex(&Sha256::digest(bytes)),
        sha1: hex(&Sha1::digest(bytes)),
        findings,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the bytes are, from their magic numbers and, for text, their
/// first markers.
pub fn sniff(bytes: &[u8]) -> Content {
    const MAGIC: &[(&[u8], Content)] = &[
        (b"MZ", Content::Executable),
        (b"\x7fELF", Content::Executable),
        (b"\xcf\xfa\xed\xfe", Content::Executable),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Content::Ole),
        (b"7z\xbc\xaf\x27\x1c", Content::SevenZip),
        (b"Rar!\x1a\x07", Content::Rar),
        (b"\x1f\x8b", Content::Gzip),
        (b"L\x00\x00\x00\x01\x14\x02\x00", Content::Shortcut),
        (b"%PDF", Content::Pdf),
        (b"\x89PNG", Content::Image),
        (b"\xff\xd8\xff", Content::Image),
        (b"GIF8", Content::Image),
    ];
    if let Some((_, content)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return *content;
    }
    // Readers accept a PDF header anywhere in the first kilobyte.
    if memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
        return Content::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let names = zip_names(bytes);
        let office = names.iter().any(|n| n == "[content_types].xml");
        return if office { Content::Ooxml } else { Content::Zip };
    }
    if is_disk_image(bytes) {
        return Content::DiskImage;
    }
    text_content(bytes)
}

fn is_disk_image(bytes: &[u8]) -> bool {
    [0x8001, 0x8801, 0x9001].iter().any(|&at| {
        bytes
            .get(at..at + 5)
            .is_some_and(|m| m == b"CD001" || m == b"BEA01")
    })
}

/// Text attachments: scripts and HTML by what they say, not their names.
fn text_content(bytes: &[u8]) -> Content {
    let head = &bytes[..bytes.len().min(4096)];
    if head.iter().filter(|&&b| b == 0).count() > head.len() / 8 {
        return Content::Other;
    }
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let script_markers = [
        "<hta:application",
        "wscript.",
        "createobject(",
        "activexobject",
        "<job",
        "<package>",
        "powershell",
        "@echo off",
    ];
    if script_markers.iter().any(|m| text.contains(m)) {
        Content::Script
    } else if text.contains("<html")
        || text.contains("<!doctype html")
        || text.contains("<script")
        || text.contains("<form")
    {
        Content::Html
    } else if std::str::from_utf8(head).is_ok() {
        Content::Text
    } else {
        Content::Other
    }
}

/// The most of a document's streams and parts that is read.
const READ_LIMIT: u64 = 8 << 20;

/// Macros, remote templates and links in an Office Open XML document.
fn ooxml_findings(bytes: &[u8]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return findings;
    };
    let mut links = Vec::new();
    for i in 0..archive.len().min(2000) {
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        let name = entry
            .name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with("vbaproject.bin") {
            findings.push(Finding::Macros);
        }
        if !name.ends_with(".rels") {
            continue;
        }
        let mut text = String::new();
        if entry.take(READ_LIMIT).read_to_string(&mut text).is_err() {
            continue;
        }
        for (kind, target) in external_relationships(&text) {
            if kind.ends_with("/attachedtemplate")
                || kind.ends_with("/oleobject")
                || kind.ends_with("/frame")
            {
                findings.push(Finding::RemoteTemplate { url: target });
            } else if kind.ends_with("/hyperlink") && links.len() < 20 {
                links.push(target);
            }
        }
    }
    if !links.is_empty() {
        findings.push(Finding::DocumentLink { urls: links });
    }
    findings
}

/// (relationship type, target) of each relationship with
/// `TargetMode="External"` in a `.rels` part.
fn external_relationships(rels: &str) -> Vec<(String, String)> {
    let attribute = |element: &str, name: &str| -> Option<String> {
        let start = element.find(&format!("{name}=\""))? + name.len() + 2;
        let end = element[start..].find('"')? + start;
        Some(element[start..end].replace("&amp;", "&"))
    };
    rels.split("<Relationship ")
        .skip(1)
        .filter(|element| element.contains("TargetMode=\"External\""))
        .filter_map(|element| {
            let kind = attribute(element, "Type")?.to_ascii_lowercase();
            let target = attribute(element, "Target")?;
            Some((kind, target))
        })
        .collect()
}

/// Active content and links in a PDF: its names are searched in the file
/// and in its Flate-compressed object streams (which hide them); page
/// content streams, which hold no such names, are not inflated.
fn pdf_findings(bytes: &[u8]) -> Vec<Finding> {
    let streams = pdf_streams(bytes);
    let texts = std::iter::once(bytes).chain(streams.iter().map(Vec::as_slice));
    let mut active: Vec<&str> = Vec::new();
    let mut urls: Vec<String> = Vec::new();
    for text in texts {
        for name in [
            "/JavaScript",
            "/Launch",
            "/EmbeddedFile",
            "/RichMedia",
            "/XFA",
        ] {
            if !active.contains(&name) && memchr::memmem::find(text, name.as_bytes()).is_some() {
                active.push(name);
            }
        }
        for found in memchr::memmem::find_iter(text, b"/URI") {
            if let Some(url) =
                pdf_string_after(&text[found + 4..]).filter(|u| u.starts_with("http"))
                && !urls.contains(&url)
                && urls.len() < 20
            {
                urls.push(url);
            }
        }
    }
    let mut findings = Vec::new();
    if !active.is_empty() {
        findings.push(Finding::PdfActive {
            what: active.join(" "),
        });
    }
    if !urls.is_empty() {
        findings.push(Finding::DocumentLink { urls });
    }
    findings
}

/// The contents of a PDF's streams, inflated (each at most [`READ_LIMIT`]).
fn pdf_streams(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memmem::find(&bytes[at..], b"stream") {
        let mut start = at + found + b"stream".len();
        at = start;
        if bytes[..start - 6].ends_with(b"end") {
            continue;
        }
        let dictionary = &bytes[start.saturating_sub(300)..start];
        let may_hold_names = memchr::memmem::find(dictionary, b"/ObjStm").is_some()
            || memchr::memmem::find(dictionary, b"/JS").is_some();
        if !may_hold_names {
            continue;
        }
        start += bytes[start..]
            .iter()
            .take(2)
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let end =
            memchr::memmem::find(&bytes[start..], b"endstream").map_or(bytes.len(), |e| start + e);
        let mut inflated = Vec::new();
        let decoder = flate2::read::ZlibDecoder::new(&bytes[start..end]);
        if decoder.take(READ_LIMIT).read_to_end(&mut inflated).is_ok() || !inflated.is_empty() {
            out.push(inflated);
        }
        at = end;
        if out.len() >= 500 {
            break;
        }
    }
    out
}

/// The PDF string (`(…)`) that follows a name, undoing `\\` escapes.
fn pdf_string_after(rest: &[u8]) -> Option<String> {
    let open = rest.iter().take(8).position(|&b| b == b'(')?;
    let mut out = Vec::new();
    let mut escaped = false;
    for &b in rest[open + 1..].iter().take(4096) {
        match (escaped, b) {
            (false, b'\\') => escaped = true,
            (false, b')') => return String::from_utf8(out).ok(),
            (_, b) => {
                out.push(b);
                escaped = false;
            }
        }
    }
    None
}

/// Whether an OLE file holds a VBA project.
fn ole_has_macros(bytes: &[u8]) -> bool {
    let Ok(file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return memchr::memmem::find(bytes, b"_VBA_PROJECT").is_some();
    };
    file.walk().any(|entry| {
        let name = entry.name().to_ascii_lowercase();
        name == "_vba_project" || name == "vba" || name == "macros"
    })
}

/// The names in a ZIP archive, lower-cased (empty when it cannot be read).
fn zip_names(bytes: &[u8]) -> Vec<String> {
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive
            .file_names()
            .filter_map(Result::ok)
            .map(|name| name.to_ascii_lowercase())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn archive_findings(content: Content, bytes: &[u8], body: &str, findings: &mut Vec<Finding>) {
    let entries = if content == Content::Zip {
        zip_entries(bytes)
    } else {
        Vec::new()
    };
    let encrypted = match content {
        Content::Zip => entries.iter().any(|(_, encrypted)| *encrypted),
        // 7-Zip with encrypted headers names no entries; with an AES coder
        // (06 F1 07 01) the data is encrypted.
        Content::SevenZip => memchr::memmem::find(bytes, b"\x06\xf1\x07\x01").is_some(),
        // RAR 4 marks encrypted entries in the file header flags; RAR 5
        // has an encryption header. Not read here: a RAR sent by mail is
        // risky either way.
        _ => false,
    };
    if encrypted {
        findings.push(Finding::EncryptedArchive {
            password_in_body: password_given(body),
        });
    }
    for (name, _) in entries {
        if risky_name(&name) || has_double_extension(&name) {
            findings.push(Finding::RiskyEntry { name });
        }
    }
    if content == Content::Rar && !encrypted {
        findings.push(Finding::RiskyEntry {
            name: "(RAR archive)".into(),
        });
    }
}

/// The entries of a ZIP archive, read once: each name (lower case) and
/// whether it is encrypted (empty when the archive cannot be read).
fn zip_entries(bytes: &[u8]) -> Vec<(String, bool)> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    (0..archive.len())
        .filter_map(|i| {
            let entry = archive.by_index_raw(i).ok()?;
            let name = entry.name().ok()?.to_ascii_lowercase();
            Some((name, entry.encrypted()))
        })
        .collect()
}

/// Whether a message's text gives a password: a password word followed,
/// within a few words, by a colon and a value (in English, Japanese,
/// Portuguese, Spanish, French and German).
pub fn password_given(body: &str) -> bool {
    static GIVEN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)(?:password|passwort|kennwort|senha|contraseña|mot de passe|pwd|パスワード|暗証番号)[^\n:：=]{0,30}[:：=は]\s*\S{3,}",
        )
        .expect("valid")
    });
    GIVEN.is_match(body)
}

/// Whether a file name's extension claims a type its bytes are not.
fn claims_other_content(name: &str, content: Content) -> bool {
    let Some(ext) = extension(name) else {
        return false;
    };
    let claimed = match ext.as_str() {
        "pdf" => Content::Pdf,
        "docx" | "xlsx" | "pptx" => Content::Ooxml,
        "doc" | "xls" | "ppt" => Content::Ole,
        "zip" => Content::Zip,
        "jpg" | "jpeg" | "png" | "gif" => Content::Image,
        _ => return false,
    };
    content != claimed && !(claimed == Content::Ole && content == Content::Ooxml)
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(ext.trim().to_ascii_lowercase())
}

fn risky_name(name: &str) -> bool {
    extension(name).is_some_and(|e| RISKY_EXTENSIONS.contains(&e.as_str()))
}

/// `invoice.pdf.exe`: a document's extension followed by a risky one.
fn has_double_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.trim().rsplitn(3, '.').collect();
    parts.len() == 3
        && RISKY_EXTENSIONS.contains(&parts[0])
        && DECOY_EXTENSIONS.contains(&parts[1].trim())
}

/// HTML smuggling (a file built from a script's data and saved) and login
/// forms.
fn html_findings(bytes: &[u8]) -> Vec<Finding> {
    let mut text = String::new();
    let _ = Cursor::new(bytes).take(4 << 20).read_to_string(&mut text);
    let lower = text.to_ascii_lowercase();
    let mut findings = Vec::new();
    let builds_file = lower.contains("new blob")
        || lower.contains("mssaveoropenblob")
        || lower.contains("createobjecturl");
    let carries_data =
        lower.contains("atob(") || lower.contains("base64,") || lower.contains("fromcharcode");
    if builds_file && carries_data {
        findings.push(Finding::HtmlSmuggling);
    }
    if has_login_form(&lower) {
        findings.push(Finding::LoginForm);
    }
    findings
}

/// Whether (lower-cased) HTML holds a form with a password field.
pub fn has_login_form(lower_html: &str) -> bool {
    lower_html.contains("<form")
        && (lower_html.contains("type=\"password\"")
            || lower_html.contains("type='password'")
            || lower_html.contains("type=password"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(name: &str, encrypted: bool) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            writer.start_file(name, options).unwrap();
            writer.write_all(b"MZ payload").unwrap();
            writer.finish().unwrap();
        }
        let mut bytes = out.into_inner();
        if encrypted {
            // Set the encrypted flag (bit 0) in the local and central headers.
            bytes[6] |= 1;
            let central = memchr::memmem::find(&bytes, b"PK\x01\x02").unwrap();
            bytes[central + 8] |= 1;
        }
        bytes
    }

    #[test]
    fn content_is_sniffed_from_bytes_not_names() {
        assert_eq!(sniff(b"MZ\x90\x00"), Content::Executable);
        assert_eq!(sniff(b"%PDF-1.7"), Content::Pdf);
        assert_eq!(
            sniff(b"L\x00\x00\x00\x01\x14\x02\x00rest"),
            Content::Shortcut
        );
        assert_eq!(sniff(b"<html><hta:application id=x>"), Content::Script);
        assert_eq!(sniff(b"<!DOCTYPE html><p>hi"), Content::Html);
        let a = analyse(Some("invoice.pdf"), "application/pdf", b"MZ\x90\x00", "");
        assert_eq!(a.content, Content::Executable);
        assert!(a.findings.contains(&Finding::Executable));
        assert_eq!(a.sha256.len(), 64);
    }

    #[test]
    fn encrypted_zip_with_password_in_body_is_the_emotet_pattern() {
        let zip = zip_with("invoice.doc.exe", true);
        let a = analyse(
            Some("invoice.zip"),
            "application/zip",
            &zip,
            "Password: 1234",
        );
        assert!(
            a.findings.contains(&Finding::EncryptedArchive {
                password_in_body: true
            }),
            "{:?}",
            a.findings
        );
        let plain = analyse(
            Some("invoice.zip"),
            "application/zip",
            &zip_with("a.txt", false),
            "",
        );
        assert!(plain.findings.is_empty(), "{:?}", plain.findings);
    }

    #[test]
    fn double_extensions_and_smuggling() {
        assert!(has_double_extension("Invoice.PDF.exe"));
        assert!(!has_double_extension("report.final.pdf"));
        let html = b"<html><script>var d=atob('TVqQ');var b=new Blob([d]);saveAs(b)</script>";
        let a = analyse(Some("doc.html"), "text/html", html, "");
        assert!(a.findings.contains(&Finding::HtmlSmuggling));
    }
}
