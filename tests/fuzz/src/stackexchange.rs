//! Fuzz check 3: a Stack Exchange dump (`Posts.xml`, `Votes.xml`, `Users.xml`) through `cadre replay`
//! (`cadre_import::replay::replay`, the whole pipeline with the bundled program under the `stackexchange` preset).
//!
//! An input is `FLAGS CUT POSTS SEP VOTES SEP USERS` (see [`split`]): each file's bytes, and for each file whether it
//! is written as plain XML, compressed here as `.xz` or `.gz` (then, with the truncate flag, cut at `CUT`/255 of
//! its length), or written as given under a `.xz` name (arbitrary bytes for the decompressor). The promises: a
//! replay finishes or stops with an error naming the file (and row) it could not read; never a panic, and never an
//! error from below the importer (a database "string or blob too big", a forum refusal): what a dump says is the
//! importer's to check.

use std::io::Write;
use std::path::Path;

use cadre_import::replay::{Options, ReplayError, feed, replay};

use crate::common;

/// What separates the three files in an input.
pub const SEP: &[u8] = b"\n<!--cadre-fuzz-next-file-->\n";

/// How one file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `Name.xml`.
    Plain,
    /// `Name.xml.xz`, compressed here.
    Xz,
    /// `Name.xml.gz`, compressed here.
    Gz,
    /// `Name.xml.xz` holding the bytes as given.
    RawXz,
}

/// The three files of an input (`Posts`, `Votes`, `Users`), each with its form and bytes.
pub type Files<'a> = [(Form, &'a [u8]); 3];

/// The three files of an input, and whether compressed files are cut at `cut`/255.
pub fn split(data: &[u8]) -> Option<(Files<'_>, Option<u8>)> {
    let (&flags, rest) = data.split_first()?;
    let (&cut, rest) = rest.split_first()?;
    let mut parts = Vec::new();
    let mut rest = rest;
    for _ in 0..2 {
        let at = rest.windows(SEP.len()).position(|w| w == SEP)?;
        parts.push(&rest[..at]);
        rest = &rest[at + SEP.len()..];
    }
    parts.push(rest);
    let form = |bits: u8| match bits & 3 {
        0 => Form::Plain,
        1 => Form::Xz,
        2 => Form::Gz,
        _ => Form::RawXz,
    };
    let files = [(form(flags), parts[0]), (form(flags >> 2), parts[1]), (form(flags >> 4), parts[2])];
    Some((files, (flags & 0x40 != 0).then_some(cut)))
}

fn write(dir: &Path, name: &str, form: Form, bytes: &[u8], cut: Option<u8>) {
    let shorten = |mut v: Vec<u8>| {
        if let Some(cut) = cut {
            v.truncate(v.len() * usize::from(cut) / 255);
        }
        v
    };
    let (file, content) = match form {
        Form::Plain => (format!("{name}.xml"), bytes.to_vec()),
        Form::RawXz => (format!("{name}.xml.xz"), bytes.to_vec()),
        Form::Xz => {
            let mut encoder = xz2::write::XzEncoder::new(Vec::new(), 1);
            encoder.write_all(bytes).expect("compressing");
            (format!("{name}.xml.xz"), shorten(encoder.finish().expect("compressing")))
        }
        Form::Gz => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(bytes).expect("compressing");
            (format!("{name}.xml.gz"), shorten(encoder.finish().expect("compressing")))
        }
    };
    std::fs::write(dir.join(file), content).expect("writing a dump file");
}

/// Check one input (panics on a broken promise).
pub fn run(data: &[u8]) {
    let Some((files, cut)) = split(data) else { return };
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = common::scratch().join(format!("se-{n}"));
    let site = root.join("fuzz.stackexchange.com");
    std::fs::create_dir_all(&site).expect("a site folder");
    for ((form, bytes), name) in files.into_iter().zip(["Posts", "Votes", "Users"]) {
        write(&site, name, form, bytes, cut);
    }
    let options = Options {
        site: site.clone(),
        settings: common::preset("stackexchange").to_owned(),
        db: root.join("replay.db"),
        quiet: true,
        batch: feed::BATCH,
        // A handful in memory: fuzzed dumps also go through the vote sort's runs on disk and their merge.
        votes_in_memory: 3,
        // Likewise the post index: past two posts it moves to its scratch table.
        posts_in_memory: 2,
    };
    let outcome = replay(&options, common::runtime());
    let _ = std::fs::remove_dir_all(&root);
    if let Err(error) = outcome {
        check_error(&error);
    }
}

/// A replay's error must come from reading the dump, and say where.
fn check_error(error: &ReplayError) {
    match error {
        ReplayError::Stopped { error, .. } => check_error(error),
        ReplayError::Io { path, .. } | ReplayError::Xml { file: path, .. } => {
            assert!(path.file_name().is_some(), "an error naming no file: {error}")
        }
        other => panic!("a dump's content reached below the importer: {other}"),
    }
}
