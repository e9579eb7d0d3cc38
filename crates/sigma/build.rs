//! Packs the default rule set (`rules/sigmahq` at the repository root) into
//! one compressed blob that `src/builtin.rs` embeds, so the binary carries its
//! rules wherever it is installed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::DeflateEncoder;

const FOLDERS: [&str; 3] = ["rules", "rules-emerging-threats", "rules-threat-hunting"];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/sigmahq");
    println!("cargo::rerun-if-changed={}", root.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin-rules.bin");
    let file = File::create(&out).expect("OUT_DIR is writable");
    let mut packed = DeflateEncoder::new(file, Compression::default());
    let mut files = Vec::new();
    for folder in FOLDERS {
        for entry in walkdir::WalkDir::new(root.join(folder)).sort_by_file_name() {
            let entry = entry.expect("the rule folders are readable");
            if entry.file_type().is_file()
                && entry
                    .path()
                    .extension()
                    .is_some_and(|e| e == "yml" || e == "yaml")
            {
                files.push(entry.into_path());
            }
        }
    }
    for path in files {
        let name = path
            .strip_prefix(&root)
            .expect("walked under root")
            .to_string_lossy()
            .replace('\\', "/");
        let body = std::fs::read(&path).expect("rule files are readable");
        write_record(&mut packed, format!("sigmahq/{name}").as_bytes());
        write_record(&mut packed, &body);
    }
    packed.finish().expect("the packed rule set is written");
}

fn write_record(out: &mut impl Write, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("rule files are smaller than 4 GiB");
    out.write_all(&len.to_le_bytes()).expect("write to OUT_DIR");
    out.write_all(bytes).expect("write to OUT_DIR");
}
