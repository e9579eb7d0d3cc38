//! Messages built to break parsers: each is analysed or quarantined with a
//! reason, and the run goes on.

use std::path::Path;

use gsoc_mail::{Settings, analyse, source};

#[test]
fn mime_nesting_that_trips_the_parser_is_quarantined_not_fatal() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mime-nesting.eml");
    let messages = source::read_file(&path).expect("fixture");
    let settings = Settings::default();
    for message in &messages {
        let result = analyse(message, &settings);
        if let Err(broken) = &result {
            assert!(broken.reason.contains("MIME parser"), "{}", broken.reason);
            assert_eq!(broken.origin.file, path);
        }
        // Release builds compile mail-parser's assertion out and read the
        // message as best they can; debug builds must have caught it.
        #[cfg(debug_assertions)]
        assert!(result.is_err(), "the assertion should have been caught");
    }
    let next = source::split(
        Path::new("next.eml"),
        b"From: a@example.org\nSubject: hi\n\nhello\n".to_vec(),
    );
    assert!(
        analyse(&next[0], &settings).is_ok(),
        "the next message is analysed"
    );
}
