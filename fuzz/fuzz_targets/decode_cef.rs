//! Any bytes as a log file, read as Cef: read, frame and decode every record.
#![no_main]

use gsoc_decode::{Chunk, Format, Options, read_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = Options {
        format: Some(Format::Cef),
        ..Options::default()
    };
    read_bytes("fuzz", data.to_vec(), &options, &mut |chunk| {
        if let Chunk::Batch(batch) = chunk {
            batch.decode().for_each(drop);
        }
        true
    });
});
