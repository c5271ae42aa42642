//! libFuzzer target `ingest`: every input goes through [`cadre_fuzz::ingest::run`], which panics on any broken promise
//! (see that module for what it checks). Run with `cargo +nightly fuzz run ingest` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cadre_fuzz::ingest::run(data));
