//! Must provoke: `plugin inspect` refuses it: `configure("")` refuses its own defaults (a required setting with no
//! default), so every fresh instance would fail.
#![no_std]

extern crate alloc;

use hostile_common::*;

struct BadDefaults;

impl Hostile for BadDefaults {
    fn configure(settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        if settings.contains("threshold") {
            return Ok(declaration());
        }
        Err(alloc::vec![types::ConfigError {
            path: "threshold".into(),
            line: None,
            message: "missing (it has no default)".into(),
        }])
    }
}

hostile_component!(BadDefaults);
