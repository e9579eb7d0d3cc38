//! The e-mail corpus in ../shared/data/email, with `origin_label` in its
//! index.csv as the truth: phishing_pot recall, SpamAssassin ham false
//! positives, the attachment-type messages, and no panic on the hostile
//! messages. Skips, saying why, when the shared data is absent.

use std::collections::BTreeMap;
use std::path::Path;

use gsoc_mail::{Analysis, Class, Settings, analyse, source};

struct Labelled {
    file: String,
    label: String,
    hint: String,
}

fn index(root: &Path) -> Vec<Labelled> {
    let mut reader = csv::Reader::from_path(root.join("index.csv")).expect("index.csv");
    reader
        .records()
        .map(|r| r.expect("index row"))
        .map(|r| Labelled {
            file: r[0].to_owned(),
            label: r[2].to_owned(),
            hint: r[3].to_owned(),
        })
        .collect()
}

fn group(label: &str) -> &'static str {
    if label.starts_with("phishing") {
        "phishing_pot"
    } else if label.starts_with("ham") {
        "ham"
    } else if label.starts_with("spam") {
        "spam"
    } else if label.starts_with("benign") {
        "cpython"
    } else {
        "mail-parser-tests"
    }
}

fn analyse_file(path: &Path) -> Result<Analysis, String> {
    let messages = source::read_file(path).map_err(|e| e.to_string())?;
    let message = messages.first().ok_or("no message")?;
    analyse(message, &Settings::default()).map_err(|e| e.to_string())
}

#[test]
fn classification_on_the_labelled_corpus() {
    let Some(root) = gsoc_testdata::shared_data().map(|d| d.join("email")) else {
        return;
    };
    let settings_check = Settings::default();
    assert!(!settings_check.protected.names.is_empty());
    let mut confusion: BTreeMap<(&str, Class), usize> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut attachment_rows = Vec::new();
    let mut missed = Vec::new();
    for row in index(&root) {
        let group = group(&row.label);
        match analyse_file(&root.join(&row.file)) {
            Ok(analysis) => {
                *confusion.entry((group, analysis.class)).or_default() += 1;
                if group == "phishing_pot" && analysis.class == Class::Benign {
                    missed.push(format!(
                        "{} score {} {:?}",
                        row.file,
                        analysis.score,
                        analysis.reasons.iter().map(|r| r.code).collect::<Vec<_>>()
                    ));
                }
                if group == "ham" && analysis.class != Class::Benign {
                    eprintln!(
                        "ham flagged: {} {:?} {:?}",
                        row.file, analysis.class, analysis.reasons
                    );
                }
                if group == "phishing_pot" && row.hint == "attachment" {
                    attachment_rows.push((row.file.clone(), analysis));
                }
            }
            Err(why) => broken.push(format!("{}: {why}", row.file)),
        }
    }
    print_confusion(&confusion);
    let count = |group: &str, pick: &dyn Fn(Class) -> bool| {
        confusion
            .iter()
            .filter(|((g, c), _)| *g == group && pick(*c))
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    let phish_total = count("phishing_pot", &|_| true);
    let phish_found = count("phishing_pot", &|c| c != Class::Benign);
    let ham_total = count("ham", &|_| true);
    let ham_flagged = count("ham", &|c| c != Class::Benign);
    eprintln!(
        "phishing_pot recall {phish_found}/{phish_total}; ham false positives {ham_flagged}/{ham_total}"
    );
    for m in &missed {
        eprintln!("missed: {m}");
    }
    for b in &broken {
        eprintln!("broken: {b}");
    }
    assert_eq!(phish_total, 394);
    assert!(
        phish_found as f64 >= 0.95 * phish_total as f64,
        "recall {phish_found}/{phish_total}"
    );
    assert_eq!(ham_total, 300);
    assert!(
        ham_flagged as f64 <= 0.01 * ham_total as f64,
        "false positives {ham_flagged}/{ham_total}"
    );
    check_attachment_messages(&attachment_rows);
}

/// Each of the 85 messages the index marks as carrying an attachment is of
/// the attachment type, or its attachments are shown to be inert (no
/// finding on any of them) and the message is classified for what else it
/// carries.
fn check_attachment_messages(rows: &[(String, Analysis)]) {
    assert_eq!(rows.len(), 85);
    let mut explained = 0;
    for (file, analysis) in rows {
        if analysis.class == Class::Attachment {
            continue;
        }
        let explanations: Vec<String> = analysis.attachments.iter().map(explain).collect();
        assert!(
            explanations.iter().all(|e| !e.starts_with("unexplained")),
            "{file}: class {:?}, {explanations:?}",
            analysis.class
        );
        explained += 1;
        eprintln!(
            "explained: {file}: {:?}; {}",
            analysis.class,
            explanations.join("; ")
        );
    }
    eprintln!(
        "attachment type: {} of {}, explained: {explained}",
        rows.len() - explained,
        rows.len()
    );
}

/// Why an attachment does not make its message of the attachment type: it
/// is empty (the message names a file it does not carry), or a document or
/// image with nothing active and no link in it.
fn explain(a: &gsoc_mail::attachment::Attachment) -> String {
    use gsoc_mail::attachment::Content;
    let name = a.name.as_deref().unwrap_or("(unnamed)");
    if !a.findings.is_empty() {
        return format!("unexplained: {name} has findings {:?}", a.findings);
    }
    match a.content {
        _ if a.size == 0 => format!("{name}: empty, no file is attached"),
        Content::Pdf => format!("{name}: a PDF with no script, action, embedded file or link"),
        Content::Image | Content::Text => format!("{name}: {:?} with nothing active", a.content),
        other => format!("unexplained: {name} is {other:?} without findings"),
    }
}

fn print_confusion(confusion: &BTreeMap<(&str, Class), usize>) {
    let groups = [
        "phishing_pot",
        "spam",
        "ham",
        "cpython",
        "mail-parser-tests",
    ];
    eprint!("{:<18}", "truth \\ class");
    for class in Class::ALL {
        eprint!("{:>11}", class.as_str());
    }
    eprintln!();
    for group in groups {
        eprint!("{group:<18}");
        for class in Class::ALL {
            eprint!(
                "{:>11}",
                confusion.get(&(group, class)).copied().unwrap_or(0)
            );
        }
        eprintln!();
    }
}

#[test]
fn hostile_messages_do_not_panic_and_broken_ones_say_why() {
    let Some(root) = gsoc_testdata::shared_data().map(|d| d.join("email")) else {
        return;
    };
    let (files, problems) = source::message_files(&[
        root.join("mail-parser-tests"),
        root.join("cpython-test-email"),
    ]);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(files.len() >= 70, "{}", files.len());
    let mut analysed = 0;
    for file in &files {
        for message in source::read_file(file).expect("readable") {
            match analyse(&message, &Settings::default()) {
                Ok(_) => analysed += 1,
                Err(broken) => assert!(!broken.reason.is_empty()),
            }
        }
    }
    assert!(analysed >= 60, "{analysed}");
}
