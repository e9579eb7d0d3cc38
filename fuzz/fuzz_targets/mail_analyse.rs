//! The e-mail analysis on arbitrary bytes: parsing, links, attachments,
//! classification. Must never panic; a message it cannot read is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let messages = gsoc_mail::source::split(std::path::Path::new("fuzz.eml"), data.to_vec());
    let settings = gsoc_mail::Settings::default();
    for message in &messages {
        let _ = gsoc_mail::analyse(message, &settings);
    }
});
