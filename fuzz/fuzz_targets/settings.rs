//! libFuzzer target `settings`: every input goes through [`cadre_fuzz::settings::run`], which panics on any broken promise
//! (see that module for what it checks). Run with `cargo +nightly fuzz run settings` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cadre_fuzz::settings::run(data));
