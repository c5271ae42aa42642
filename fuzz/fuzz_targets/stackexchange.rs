//! libFuzzer target `stackexchange`: every input goes through [`cadre_fuzz::stackexchange::run`], which panics on any broken promise
//! (see that module for what it checks). Run with `cargo +nightly fuzz run stackexchange` from the repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cadre_fuzz::stackexchange::run(data));
