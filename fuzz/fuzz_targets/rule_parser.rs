//! Any text as a Sigma rule file: parse, compile, and match one event.
#![no_main]

use gsoc_event::{Event, Format, LogSource, Value};
use gsoc_sigma::{EngineBuilder, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut set = RuleSet::new();
    set.add_text("fuzz.yml", text);
    let engine = EngineBuilder::new().compile_regexes_now(true).build(&set);
    let mut event = Event::new(Format::Json, "fuzz", 1, "");
    event.logsource = LogSource::product("windows");
    event.fields.push("EventID", Value::Int(1));
    event.fields.push("Channel", Value::from("Microsoft-Windows-Sysmon/Operational"));
    event.fields.push("CommandLine", Value::from(text.chars().take(200).collect::<String>()));
    engine.session().detect(&event, |_| {});
});
