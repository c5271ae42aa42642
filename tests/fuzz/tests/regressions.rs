//! Every crash the fuzzers found, kept in `fuzz/regressions/<target>/`, and every seed in `fuzz/seeds/<target>/`,
//! run through the same check the fuzz target runs (`cadre_fuzz::<target>::run`), on stable, in
//! `cargo test --workspace`. A file that panics here is a promise broken again.

use std::path::{Path, PathBuf};

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(folder).join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.expect("a folder entry").path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files: Vec<PathBuf> = ["regressions", "seeds"].iter().flat_map(|folder| inputs(folder, target)).collect();
    for file in &files {
        let data = std::fs::read(file).expect("reading an input");
        if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
            let message =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{}: {}", file.display(), message.unwrap_or_default());
        }
    }
}

#[test]
fn ingest_regressions_and_seeds_keep_their_promises() {
    replay("ingest", cadre_fuzz::ingest::run);
}

#[test]
fn settings_regressions_and_seeds_keep_their_promises() {
    replay("settings", cadre_fuzz::settings::run);
}

#[test]
fn stackexchange_regressions_and_seeds_keep_their_promises() {
    replay("stackexchange", cadre_fuzz::stackexchange::run);
}

#[test]
fn effects_regressions_and_seeds_keep_their_promises() {
    replay("effects", cadre_fuzz::effects::run);
}

#[test]
fn differential_regressions_and_seeds_keep_their_promises() {
    replay("differential", cadre_fuzz::differential::run);
}

#[test]
fn web_regressions_and_seeds_keep_their_promises() {
    replay("web", cadre_fuzz::web::run);
}
