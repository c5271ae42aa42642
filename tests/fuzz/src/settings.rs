//! Fuzz check 2: the program's TOML settings through `configure` of the real bundled component.
//!
//! The input's bytes (lossily made UTF-8, as a form field would be) go to the component's `configure` hook under
//! the host's limits (`cadre_runtime::Plugin::check`). The promises:
//! - the guest never fails (no panic in the guest, no trap, no "ran out of fuel"): settings are answered with a
//!   declaration or with errors;
//! - every error has a line (1-based, within the text) and, unless it is about the whole document, a path; the one
//!   exception is the documented last note after [`MAX_ERRORS`] listed errors ("… and N more error(s) not listed"),
//!   which is about the list, not a place in the text (the check once took it for an error without a line);
//! - the component answers exactly as the native rules do (`cadre_rules::Program::configure`), up to the host's
//!   own size limit, which it checks before the program sees the text.

use std::cell::RefCell;

use cadre_rules::config::reader::MAX_ERRORS;
use cadre_runtime::Plugin;

use crate::common;

thread_local! {
    static PLUGIN: RefCell<Plugin> = RefCell::new(
        common::runtime().load_bytes("cadre_plugin.wasm", cadre_bundled::PROGRAM_WASM).expect("the bundled program loads").0,
    );
}

/// Check one settings text (panics on a broken promise).
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check(&text);
}

/// Check one settings text (panics on a broken promise).
pub fn check(text: &str) {
    let outcome = PLUGIN.with(|plugin| plugin.borrow_mut().check(text));
    let outcome =
        outcome.unwrap_or_else(|error| panic!("the component failed on settings instead of answering: {error}"));
    let lines = text.lines().count().max(1) as u32 + 1;
    if let Err(errors) = &outcome {
        assert!(!errors.is_empty(), "refused without a reason");
        for (at, error) in errors.iter().enumerate() {
            let note = at == MAX_ERRORS && at + 1 == errors.len() && error.message.contains("more error(s) not listed");
            if note && error.line.is_none() {
                continue;
            }
            let line = error.line.unwrap_or_else(|| panic!("an error without a line: {error:?}"));
            assert!((1..=lines).contains(&line), "line {line} of a {lines}-line text: {error:?}");
            assert!(!error.message.trim().is_empty(), "an error without a message: {error:?}");
        }
    }
    if text.len() <= cadre_runtime::limits::MAX_SETTINGS_BYTES {
        let native = cadre_rules::Program::configure(text).map(|program| program.declaration());
        assert_eq!(outcome, native, "the component and the native rules disagree on these settings");
    }
}
