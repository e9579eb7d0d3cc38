//! The class of a message, its score and the reasons for both.
//!
//! Every reason has a weight; the score is their sum (at most 100). A
//! message with a risky attachment (or a suspicious one whose attached
//! document is a link to click) is of the attachment type whatever else it
//! holds (the type the national plan counts first); otherwise one that
//! scores under [`SUSPICIOUS`] is benign, and the rest are phishing (a lure
//! for credentials or payment, or an impersonated sender, with a link or a
//! form), business e-mail compromise (a money request without links), URL
//! type (suspicious links) or spam.

use serde::Serialize;

use crate::analysis::{Body, Headers, Settings};
use crate::attachment::{Attachment, Content, Finding};
use crate::links::{Link, LinkFinding, registrable};
use crate::sender::{self, domain_of};
use crate::words::{ABUSED_TLDS, FREE_MAIL, List, WordHits};

/// The score from which a message is suspicious.
pub const SUSPICIOUS: u32 = 40;

/// What kind of suspicious mail a message is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A risky attachment (macro document, encrypted archive, executable…).
    Attachment,
    /// Links to malicious or suspicious sites.
    Url,
    /// A lure for credentials or payment.
    Phishing,
    /// Business e-mail compromise or fraud: a request for money or data
    /// from an impersonated sender, without links.
    Bec,
    /// Unsolicited bulk mail.
    Spam,
    /// Nothing suspicious found.
    Benign,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 6] = [
        Class::Attachment,
        Class::Url,
        Class::Phishing,
        Class::Bec,
        Class::Spam,
        Class::Benign,
    ];

    /// Its name in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Attachment => "attachment",
            Class::Url => "url",
            Class::Phishing => "phishing",
            Class::Bec => "bec",
            Class::Spam => "spam",
            Class::Benign => "benign",
        }
    }

    /// Its name in Japanese (the plan's own words for the types).
    pub fn japanese(self) -> &'static str {
        match self {
            Class::Attachment => "添付ファイル型",
            Class::Url => "URL型",
            Class::Phishing => "フィッシング",
            Class::Bec => "ビジネスメール詐欺",
            Class::Spam => "迷惑メール",
            Class::Benign => "問題なし",
        }
    }
}

/// One reason, with its machine-readable code, its weight and the detail
/// that makes it checkable (a file name, a host, a header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The code, such as `macro-document` or `lookalike-domain`.
    pub code: &'static str,
    /// What it adds to the score.
    pub weight: u32,
    /// What was found.
    pub detail: String,
}

impl Reason {
    /// A sentence for people, in English or Japanese.
    pub fn sentence(&self, japanese: bool) -> String {
        let (en, ja) = sentences(self.code);
        if japanese {
            format!("{ja}: {}", self.detail)
        } else {
            format!("{en}: {}", self.detail)
        }
    }
}

fn sentences(code: &str) -> (&'static str, &'static str) {
    match code {
        "macro-document" => ("Office document with VBA macros", "VBAマクロ付きOffice文書"),
        "encrypted-archive-password-in-body" => (
            "encrypted archive or PDF with its password in the message (the Emotet pattern)",
            "本文にパスワードのある暗号化アーカイブ・PDF(Emotetの手口)",
        ),
        "encrypted-archive" => (
            "encrypted archive that scanners cannot open",
            "検査できない暗号化アーカイブ",
        ),
        "risky-file" => ("a file type Windows runs", "実行される種類のファイル"),
        "shortcut" => ("Windows shortcut (LNK)", "Windowsショートカット(LNK)"),
        "disk-image" => (
            "disk image (ISO/IMG), which bypasses Mark-of-the-Web",
            "ディスクイメージ(ISO/IMG)",
        ),
        "script" => (
            "script (HTA, JS, VBS, WSF, PowerShell)",
            "スクリプト(HTA, JS, VBS, WSF, PowerShell)",
        ),
        "executable" => ("executable program", "実行ファイル"),
        "double-extension" => ("double file extension", "二重拡張子"),
        "html-smuggling" => (
            "HTML page that assembles a file (HTML smuggling)",
            "ファイルを組み立てるHTML(HTMLスマグリング)",
        ),
        "login-form" => (
            "page with a password form",
            "パスワード入力フォームのあるページ",
        ),
        "ip-host-link" => ("link to a bare IP address", "IPアドレスへのリンク"),
        "shortener-link" => ("link through a URL shortener", "短縮URLのリンク"),
        "link-text-mismatch" => (
            "link text shows another site than its target",
            "表示と異なるリンク先",
        ),
        "free-hosting-link" => ("link to free hosting", "無料ホスティングへのリンク"),
        "punycode-link" => (
            "link to an internationalised (punycode) domain",
            "国際化ドメイン(punycode)へのリンク",
        ),
        "credentials-in-link" => (
            "link with a user name before the host",
            "ホスト名の前にユーザー名のあるリンク",
        ),
        "dkim-failed" => (
            "a DKIM signature does not verify: the message was changed after signing",
            "DKIM署名の検証に失敗(署名後に改変)",
        ),
        "auth-failed" => ("sender authentication failed", "送信元認証の失敗"),
        "reply-to-mismatch" => (
            "replies go to another domain than the sender's",
            "返信先が送信元と異なるドメイン",
        ),
        "return-path-mismatch" => (
            "envelope sender differs from the From domain",
            "エンベロープ送信者がFromと異なるドメイン",
        ),
        "display-name-impersonation" => (
            "display name of a protected organisation from another domain",
            "保護対象組織の表示名を別ドメインから使用",
        ),
        "address-in-display-name" => ("display name shows another address", "表示名に別のアドレス"),
        "lookalike-domain" => (
            "sender domain imitates a protected domain",
            "保護対象ドメインに似せた送信元ドメイン",
        ),
        "credential-lure" => (
            "asks to sign in or confirm an account",
            "ログインやアカウント確認を求める",
        ),
        "payment-lure" => (
            "asks for payment or card details",
            "支払いやカード情報を求める",
        ),
        "money-request" => (
            "asks for a transfer or gift cards",
            "送金やギフトカードを求める",
        ),
        "spam-content" => ("advertising and bulk-mail wording", "広告・大量配信の文言"),
        "no-sender" => ("no sender address", "送信元アドレスなし"),
        "brand-in-subject" => (
            "subject names a protected organisation the sender is not",
            "件名に送信元でない保護対象組織名",
        ),
        "auth-missing" => ("no sender authentication passed", "送信元認証の成功なし"),
        "links-elsewhere" => (
            "an HTML message whose every link leads away from the sender's domain",
            "すべてのリンクが送信元と別ドメインのHTMLメール",
        ),
        "recipient-in-subject" => (
            "the subject addresses the recipient by mail address",
            "件名に受信者のメールアドレス",
        ),
        "garbled-sender-name" => (
            "sender name garbled to slip past filters",
            "フィルタ回避のため崩された送信者名",
        ),
        "numbered-sender" => (
            "sender mailbox numbered by a bulk mailer",
            "大量送信用に番号付けされた送信者アドレス",
        ),
        "little-text" => (
            "an HTML message of images and links with little text",
            "画像とリンクだけでほぼ本文のないHTMLメール",
        ),
        "free-mail-document" => (
            "a document sent from a free mailbox",
            "フリーメールから送られた文書",
        ),
        "callback-lure" => (
            "a charge or order to dispute by calling a number (callback phishing)",
            "電話をかけさせる請求・注文通知(コールバック型フィッシング)",
        ),
        "romance-lure" => (
            "a stranger's romantic introduction (romance scam)",
            "見知らぬ人物からの恋愛の誘い(ロマンス詐欺)",
        ),
        "hash-buster" => (
            "random strings that make each copy different",
            "配信ごとに変えるランダム文字列",
        ),
        "name-mismatch" => (
            "attachment whose name claims another type than its content",
            "名前と中身の種類が異なる添付ファイル",
        ),
        "html-only" => ("HTML without a plain-text part", "テキストパートのないHTML"),
        "emoji-subject" => ("pictographs in the subject", "件名に絵文字"),
        "obfuscated-text" => (
            "characters that disguise words from filters",
            "フィルタ回避のための偽装文字",
        ),
        "random-token" => ("random token in the subject", "件名にランダムな文字列"),
        "fake-reply" => (
            "looks like a reply but answers no message",
            "返信を装うが元のメールがない",
        ),
        "sender-is-recipient" => (
            "sent from the recipient's own address",
            "受信者自身のアドレスから送信",
        ),
        "abused-tld" => (
            "sender domain under a top-level domain used mostly for abuse",
            "悪用の多いトップレベルドメインの送信元",
        ),
        "abused-tld-link" => (
            "link under a top-level domain used mostly for abuse",
            "悪用の多いトップレベルドメインへのリンク",
        ),
        "free-mail-offer" => (
            "money or offers from a free mailbox",
            "フリーメールからの金銭・勧誘",
        ),
        "pdf-active-content" => ("PDF that runs content when opened", "開くと動作するPDF"),
        "remote-template" => (
            "Office document that loads a remote template",
            "外部テンプレートを読み込むOffice文書",
        ),
        "document-link" => (
            "attached document that is a link to click",
            "リンクをクリックさせる添付文書",
        ),
        _ => ("finding", "検知"),
    }
}

/// The class, score and reasons of a message.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) class: Class,
    pub(crate) score: u32,
    pub(crate) reasons: Vec<Reason>,
}

/// Classifies a message.
pub(crate) fn classify(
    headers: &Headers,
    body: &Body,
    links: &[Link],
    attachments: &[Attachment],
    settings: &Settings,
) -> Verdict {
    let mut reasons = Vec::new();
    attachment_reasons(attachments, &mut reasons);
    let risky_attachment = reasons.iter().any(|r| r.weight >= 50);
    let attached_lure = !reasons.is_empty();
    link_reasons(links, &mut reasons);
    sender_reasons(headers, settings, &mut reasons);
    let text = format!(
        "{}\n{}\n{}\n{}",
        headers.from_name, headers.subject, body.text, body.html_text
    )
    .to_lowercase();
    let lures = content_reasons(&text, headers, links, attachments, &mut reasons);
    style_reasons(headers, body, links, attachments, &lures, &mut reasons);
    let score = reasons.iter().map(|r| r.weight).sum::<u32>().min(100);
    let class = if risky_attachment || (attached_lure && score >= SUSPICIOUS) {
        Class::Attachment
    } else if score < SUSPICIOUS {
        Class::Benign
    } else {
        suspicious_class(&reasons, links, body, lures)
    };
    Verdict {
        class,
        score,
        reasons,
    }
}

/// What the content asks for.
#[derive(Clone, Copy, Debug, Default)]
struct Lures {
    /// Payment words, with or without a way to pay.
    payment_words: bool,
    credentials: bool,
    payment: bool,
    money_request: bool,
    spam: bool,
}

fn suspicious_class(reasons: &[Reason], links: &[Link], body: &Body, lures: Lures) -> Class {
    let has = |code: &str| reasons.iter().any(|r| r.code == code);
    let fraud = has("romance-lure") || has("callback-lure");
    let impersonated = has("display-name-impersonation")
        || has("lookalike-domain")
        || has("address-in-display-name");
    let reachable =
        !links.is_empty() || crate::attachment::has_login_form(&body.html.to_ascii_lowercase());
    let link_findings = reasons
        .iter()
        .any(|r| r.code.ends_with("-link") || r.code == "link-text-mismatch");
    if reachable && (lures.credentials || lures.payment || impersonated) {
        Class::Phishing
    } else if fraud || !reachable && (lures.money_request || impersonated || lures.payment) {
        Class::Bec
    } else if link_findings {
        Class::Url
    } else if lures.spam {
        Class::Spam
    } else if reachable {
        Class::Url
    } else {
        Class::Spam
    }
}

fn attachment_reasons(attachments: &[Attachment], reasons: &mut Vec<Reason>) {
    for a in attachments {
        let name = a.name.clone().unwrap_or_else(|| a.declared_type.clone());
        for finding in &a.findings {
            let (code, weight, detail) = match finding {
                Finding::Macros => ("macro-document", 60, name.clone()),
                Finding::EncryptedArchive {
                    password_in_body: true,
                } => ("encrypted-archive-password-in-body", 70, name.clone()),
                Finding::EncryptedArchive {
                    password_in_body: false,
                } => ("encrypted-archive", 50, name.clone()),
                Finding::RiskyEntry { name: entry } => ("risky-file", 55, entry.clone()),
                Finding::Shortcut => ("shortcut", 70, name.clone()),
                Finding::DiskImage => ("disk-image", 60, name.clone()),
                Finding::Script => ("script", 65, name.clone()),
                Finding::Executable => ("executable", 70, name.clone()),
                Finding::DoubleExtension => ("double-extension", 60, name.clone()),
                Finding::HtmlSmuggling => ("html-smuggling", 70, name.clone()),
                Finding::LoginForm => ("login-form", 65, name.clone()),
                Finding::NameMismatch { content } => {
                    ("name-mismatch", 30, format!("{name}: {content:?}"))
                }
                Finding::PdfActive { what } => {
                    ("pdf-active-content", 60, format!("{name}: {what}"))
                }
                Finding::RemoteTemplate { url } => {
                    ("remote-template", 65, format!("{name}: {url}"))
                }
                Finding::DocumentLink { urls } => {
                    ("document-link", 30, format!("{name}: {}", urls.join(" ")))
                }
            };
            push_once(reasons, code, weight, detail);
        }
    }
}

fn link_reasons(links: &[Link], reasons: &mut Vec<Reason>) {
    for link in links {
        for finding in &link.findings {
            let (code, weight) = match finding {
                LinkFinding::IpHost => ("ip-host-link", 30),
                LinkFinding::Shortener => ("shortener-link", 20),
                LinkFinding::TextMismatch => ("link-text-mismatch", 30),
                LinkFinding::FreeHosting => ("free-hosting-link", 25),
                LinkFinding::Punycode => ("punycode-link", 25),
                LinkFinding::Credentials => ("credentials-in-link", 35),
            };
            push_once(reasons, code, weight, link.url.clone());
        }
    }
}

fn sender_reasons(headers: &Headers, settings: &Settings, reasons: &mut Vec<Reason>) {
    let not_verified = |result: &str| matches!(result, "fail" | "neutral" | "permerror");
    if let Some(failed) = headers.dkim.iter().find(|c| not_verified(c.result)) {
        let why = failed.reason.clone().unwrap_or_default();
        push_once(
            reasons,
            "dkim-failed",
            30,
            format!("{}: {why}", failed.domain),
        );
    }
    let failures = headers.auth.failures();
    if !failures.is_empty() {
        let weight = (15 * failures.len() as u32).min(35);
        push_once(reasons, "auth-failed", weight, failures.join(", "));
    }
    let Some(from_domain) = domain_of(&headers.from) else {
        push_once(reasons, "no-sender", 15, "From".into());
        return;
    };
    let differs = |other: &Option<String>| {
        other
            .as_deref()
            .and_then(domain_of)
            .is_some_and(|d| registrable(&d) != registrable(&from_domain))
    };
    if !headers.mailing_list && differs(&headers.reply_to) {
        push_once(
            reasons,
            "reply-to-mismatch",
            20,
            headers.reply_to.clone().unwrap_or_default(),
        );
    }
    if !headers.mailing_list && differs(&headers.return_path) {
        push_once(
            reasons,
            "return-path-mismatch",
            10,
            headers.return_path.clone().unwrap_or_default(),
        );
    }
    let protected = &settings.protected;
    if let Some(name) = sender::impersonated_name(&headers.from_name, &from_domain, protected) {
        push_once(
            reasons,
            "display-name-impersonation",
            40,
            format!("{name} <{}>", headers.from),
        );
    } else if let Some(name) = sender::impersonated_name(&headers.subject, &from_domain, protected)
        .filter(|_| !headers.mailing_list)
    {
        push_once(
            reasons,
            "brand-in-subject",
            20,
            format!("{name} <{}>", headers.from),
        );
    }
    let none_passed = [&headers.auth.spf, &headers.auth.dkim, &headers.auth.dmarc]
        .iter()
        .all(|r| r.as_deref().is_none_or(|r| r != "pass"));
    let any_recorded = [&headers.auth.spf, &headers.auth.dkim, &headers.auth.dmarc]
        .iter()
        .any(|r| r.is_some());
    if any_recorded && none_passed && failures.is_empty() {
        push_once(
            reasons,
            "auth-missing",
            10,
            "no SPF, DKIM or DMARC pass".into(),
        );
    }
    if let Some(shown) =
        domain_of(&headers.from_name).filter(|d| registrable(d) != registrable(&from_domain))
    {
        push_once(
            reasons,
            "address-in-display-name",
            30,
            format!("{shown} <{}>", headers.from),
        );
    }
    if let Some(imitated) = sender::lookalike_of(&from_domain, protected) {
        push_once(
            reasons,
            "lookalike-domain",
            45,
            format!("{from_domain} ~ {imitated}"),
        );
    }
}

fn content_reasons(
    text: &str,
    headers: &Headers,
    links: &[Link],
    attachments: &[Attachment],
    reasons: &mut Vec<Reason>,
) -> Lures {
    let words = WordHits::scan(text);
    let credentials = words.of(List::Credential);
    let payment = words.of(List::Payment);
    let money = words.of(List::MoneyRequest);
    let mut spam = words.of(List::Spam);
    if !headers.mailing_list {
        spam.extend(words.of(List::Bulk));
    }
    let reachable = !links.is_empty() || !attachments.is_empty();
    let lures = Lures {
        payment_words: payment.len() >= 2,
        credentials: credentials.len() >= 2 && reachable,
        payment: payment.len() >= 2 && reachable,
        money_request: !money.is_empty() && !reachable && attachments.is_empty(),
        spam: spam.len() >= 2,
    };
    if lures.credentials {
        push_once(reasons, "credential-lure", 25, credentials.join(", "));
    }
    if lures.payment {
        push_once(reasons, "payment-lure", 20, payment.join(", "));
    }
    let romance = words.of(List::Romance);
    if romance.len() >= 2 {
        push_once(reasons, "romance-lure", 40, romance.join(", "));
    }
    if lures.money_request {
        push_once(reasons, "money-request", 30, money.join(", "));
    }
    if lures.spam {
        push_once(
            reasons,
            "spam-content",
            (15 * spam.len() as u32).min(40),
            spam.join(", "),
        );
    }
    lures
}

/// How the message is made: the marks of bulk and fraudulent mail that
/// careful senders do not leave.
fn style_reasons(
    headers: &Headers,
    body: &Body,
    links: &[Link],
    attachments: &[Attachment],
    lures: &Lures,
    reasons: &mut Vec<Reason>,
) {
    if body.html_only && !headers.mailing_list {
        push_once(reasons, "html-only", 20, "no plain-text part".into());
    }
    if let Some(c) = headers.subject.chars().find(|c| is_pictograph(*c)) {
        push_once(reasons, "emoji-subject", 15, c.to_string());
    }
    let display = format!("{} {}", headers.from_name, headers.subject);
    if let Some(c) = display.chars().find(|c| is_obfuscating(*c)) {
        push_once(
            reasons,
            "obfuscated-text",
            45,
            format!("U+{:04X}", u32::from(c)),
        );
    } else if let Some(word) = mixed_script_word(&display) {
        push_once(reasons, "obfuscated-text", 45, word.to_owned());
    }
    let busters = hash_busters(&body.text) + hash_busters(&body.html_text);
    if busters >= 2 {
        push_once(
            reasons,
            "hash-buster",
            25,
            format!("{busters} random strings in the text"),
        );
    }
    let invisible = body
        .text
        .chars()
        .chain(body.html.chars())
        .filter(|c| is_invisible(*c))
        .count();
    if invisible >= 10 {
        push_once(
            reasons,
            "obfuscated-text",
            45,
            format!("{invisible} invisible characters in the body"),
        );
    }
    if body.html_only && visible_words(&body.html_text) < 30 && !links.is_empty() {
        push_once(
            reasons,
            "little-text",
            15,
            "an HTML message of images and links".into(),
        );
    }
    let from_free_mail = FREE_MAIL.contains(&domain_of(&headers.from).unwrap_or_default().as_str());
    if links.is_empty() && lures.payment_words && has_phone_number(&body.text) {
        push_once(
            reasons,
            "callback-lure",
            35,
            "a charge to dispute by telephone".into(),
        );
    }
    let documents = attachments
        .iter()
        .any(|a| !matches!(a.content, Content::Image | Content::Text));
    if from_free_mail && documents {
        push_once(reasons, "free-mail-document", 20, headers.from.clone());
    }
    if garbled_name(&headers.from_name) {
        push_once(
            reasons,
            "garbled-sender-name",
            40,
            headers.from_name.clone(),
        );
    }
    if numbered_mailbox(&headers.from) {
        push_once(reasons, "numbered-sender", 10, headers.from.clone());
    }
    if let Some(token) = random_token(&headers.subject) {
        push_once(reasons, "random-token", 25, token.to_owned());
    }
    let subject = headers.subject.trim_start().to_ascii_lowercase();
    let looks_like_reply = ["re:", "fw:", "fwd:", "aw:", "wg:", "enc:"]
        .iter()
        .any(|p| subject.starts_with(p))
        || matches!(subject.trim(), "re" | "fw" | "fwd");
    if looks_like_reply && !headers.in_reply_to {
        push_once(reasons, "fake-reply", 15, headers.subject.clone());
    }
    let subject_lower = headers.subject.to_lowercase();
    if let Some(to) = headers
        .to
        .iter()
        .find(|t| t.contains('@') && subject_lower.contains(t.as_str()))
    {
        push_once(reasons, "recipient-in-subject", 30, to.clone());
    }
    if !headers.from.is_empty() && headers.to.contains(&headers.from) {
        push_once(reasons, "sender-is-recipient", 25, headers.from.clone());
    }
    let from_domain = domain_of(&headers.from).unwrap_or_default();
    if let Some(tld) = from_domain
        .rsplit('.')
        .next()
        .filter(|t| ABUSED_TLDS.contains(t))
    {
        push_once(reasons, "abused-tld", 15, format!("{from_domain} (.{tld})"));
    }
    let free_mail = FREE_MAIL.contains(&from_domain.as_str());
    if free_mail && (lures.money_request || lures.spam || lures.payment) {
        push_once(reasons, "free-mail-offer", 25, from_domain.clone());
    }
    let abused_links: Vec<&str> = links
        .iter()
        .map(|l| l.host.as_str())
        .filter(|h| {
            h.rsplit('.')
                .next()
                .is_some_and(|t| ABUSED_TLDS.contains(&t))
        })
        .collect();
    if let Some(host) = abused_links.first() {
        push_once(reasons, "abused-tld-link", 15, (*host).to_owned());
    }
    let sender_site = registrable(&from_domain);
    let elsewhere = !links.is_empty() && links.iter().all(|l| registrable(&l.host) != sender_site);
    if elsewhere && !body.html.is_empty() && !headers.mailing_list {
        push_once(
            reasons,
            "links-elsewhere",
            10,
            format!("no link to {sender_site}"),
        );
    }
}

/// A display name made to slip past filters: runs of punctuation
/// (`[`.WeightLoss--]`, `Akusoli...CCzt`) or letters spaced apart
/// (`D P D`).
fn garbled_name(name: &str) -> bool {
    let punctuation_run = name
        .as_bytes()
        .windows(3)
        .any(|w| w.iter().all(|b| b"`~*#.-_|[]^".contains(b)));
    let odd_marks = name.chars().filter(|c| "`~*#|^".contains(*c)).count() >= 2;
    let spaced_letters = name.split(' ').collect::<Vec<_>>().windows(3).any(|w| {
        w.iter()
            .all(|part| part.chars().count() == 1 && part.chars().all(char::is_alphabetic))
    });
    punctuation_run || odd_marks || spaced_letters
}

/// A mailbox name that a bulk mailer numbered (`bunni_cullip_25526`,
/// `NEW_OFFRE_1_71624`): five digits or more, or a separator and four.
fn numbered_mailbox(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("");
    let digits = local.bytes().filter(u8::is_ascii_digit).count();
    let trailing = local.bytes().rev().take_while(u8::is_ascii_digit).count();
    let separated = local
        .rsplit(['_', '.', '-'])
        .next()
        .is_some_and(|last| last.len() >= 4 && last.bytes().all(|b| b.is_ascii_digit()));
    digits >= 5 && trailing >= 3 || separated
}

/// A word that mixes Latin letters with Cyrillic or Greek look-alikes
/// (`Lеԁgеr`).
fn mixed_script_word(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_alphabetic()).find(|word| {
        let latin = word.chars().any(|c| c.is_ascii_alphabetic());
        let lookalike = word
            .chars()
            .any(|c| matches!(u32::from(c), 0x0370..=0x052F));
        latin && lookalike
    })
}

/// How many words a text shows.
fn visible_words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

/// Emoji and pictographs, which bulk senders put in subjects.
fn is_pictograph(c: char) -> bool {
    matches!(u32::from(c), 0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x2B50 | 0x203C | 0x2049)
}

/// Characters that make text look like something filters do not read:
/// mathematical letters (`𝗡𝗲𝘁𝗳𝗹𝗶𝘅`) and Syriac or Arabic marks threaded
/// through Latin words.
fn is_obfuscating(c: char) -> bool {
    matches!(u32::from(c), 0x1D400..=0x1D7FF | 0x0700..=0x074F | 0x200B..=0x200D | 0x2060 | 0xFEFF)
}

/// Whether a text gives a telephone number (North American toll-free and
/// international forms), the way callback phishing asks to be called.
fn has_phone_number(text: &str) -> bool {
    static PHONE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:\+?1[\s.-]?)?\(?8[0-9]{2}\)?[\s.-]?[0-9]{3}[\s.-]?[0-9]{4}|\+[0-9]{1,3}[\s.-]?[0-9]{2,4}[\s.-]?[0-9]{3,4}[\s.-]?[0-9]{3,4}")
            .expect("valid")
    });
    PHONE.is_match(text)
}

/// Random strings of lower-case letters and digits that bulk mailers put in
/// the text so that no two messages hash alike (not URLs, which hold such
/// strings legitimately).
fn hash_busters(text: &str) -> usize {
    text.split(|c: char| c.is_whitespace() || "._-:,;()[]<>\"'".contains(c))
        .filter(|w| w.len() >= 25 && !w.contains('/') && !w.contains('='))
        .filter(|w| {
            w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .filter(|w| {
            let digits = w.bytes().filter(u8::is_ascii_digit).count();
            digits >= 5 && w.len() - digits >= 5
        })
        .count()
}

/// Characters that show nothing, threaded between letters so that filters
/// do not read the words.
fn is_invisible(c: char) -> bool {
    matches!(u32::from(c), 0x200B..=0x200F | 0x00AD | 0x034F | 0x2060..=0x2064 | 0xFEFF)
}

/// A long token of mixed-case letters and digits, which mass mailers add
/// to subjects so that no two are alike.
fn random_token(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| {
            let upper = word.bytes().filter(u8::is_ascii_uppercase).count();
            let lower = word.bytes().filter(u8::is_ascii_lowercase).count();
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            let case_changes = word
                .as_bytes()
                .windows(2)
                .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
                .count();
            let vowels = word.bytes().filter(|b| b"aeiouyAEIOUY".contains(b)).count();
            let mixed = word.len() >= 10
                && upper >= 2
                && lower >= 2
                && (case_changes >= 5 || digits >= 2 && upper + lower >= 6);
            let unpronounceable =
                word.len() >= 9 && lower == 0 && digits == 0 && vowels * 6 < word.len();
            mixed || unpronounceable
        })
}

fn push_once(reasons: &mut Vec<Reason>, code: &'static str, weight: u32, detail: String) {
    if !reasons.iter().any(|r| r.code == code) {
        reasons.push(Reason {
            code,
            weight,
            detail,
        });
    }
}
