//! The limits every plugin call runs under, with safe defaults.
//!
//! CPU is bounded by *fuel* (deterministic: the same call always burns the same fuel) with an *epoch deadline* as
//! a wall-clock backstop for anything fuel does not see (e.g. time spent in host calls). Memory is bounded by a
//! cap on linear memory growth. What a call can *produce* is bounded too: effects per call, string sizes, and the
//! key/value store's key, value, per-call write and total sizes. None of these limits covers the host's own work
//! after the call (applying effects), which is bounded by the effect and size caps.

use std::time::Duration;

/// Limits applied to every call into a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per hook call (≈ wasm instructions); `None` turns metering off (benchmarks only). The default, 10
    /// million, is the order Shopify Functions allow (11 million); a like hook of the bundled program burns a few
    /// thousand.
    pub fuel_per_call: Option<u64>,
    /// Wall-clock backstop per call. Fuel stops runaway guest code first; this catches what fuel cannot see.
    pub deadline: Duration,
    /// How often the epoch ticks; the deadline is rounded up to whole ticks.
    pub epoch_tick: Duration,
    /// Most bytes a plugin's linear memory may grow to. 64 MiB holds the bundled program many times over.
    pub memory_bytes: usize,
    /// Most effects one call may return.
    pub max_effects_per_call: usize,
    /// Most bytes in an award's `rule` key.
    pub max_rule_bytes: usize,
    /// Most bytes in a reason (awards, badges, access changes).
    pub max_reason_bytes: usize,
    /// Most bytes in a notice's message.
    pub max_notice_bytes: usize,
    /// Most bytes in a nomination's evidence (all its strings together).
    pub max_evidence_bytes: usize,
    /// Most bytes in a key/value key.
    pub max_key_bytes: usize,
    /// Most bytes in a key/value value.
    pub max_value_bytes: usize,
    /// Most key/value writes (set or delete) in one call.
    pub max_writes_per_call: usize,
    /// Most bytes (keys + values) the plugin's whole store may hold.
    pub max_store_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: Some(10_000_000),
            deadline: Duration::from_secs(1),
            epoch_tick: Duration::from_millis(10),
            memory_bytes: 64 << 20,
            max_effects_per_call: 1_000,
            max_rule_bytes: 64,
            max_reason_bytes: 1 << 10,
            max_notice_bytes: 4 << 10,
            max_evidence_bytes: 16 << 10,
            max_key_bytes: 256,
            max_value_bytes: 64 << 10,
            max_writes_per_call: 10_000,
            max_store_bytes: 1 << 30,
        }
    }
}

/// Largest settings document a program is given: 64 KiB, about four times a hundred badges with long descriptions
/// (the bundled program declares at most 100), twenty times the largest preset. Checked by the host before the
/// program sees the text, so that the program's fuel is never spent on a file no forum needs.
pub const MAX_SETTINGS_BYTES: usize = 64 << 10;

/// The error for settings of `len` bytes, if that is more than [`MAX_SETTINGS_BYTES`]: shaped as the program's own
/// errors (whole document, no line).
pub fn settings_too_large(len: usize) -> Option<cadre_model::ConfigError> {
    (len > MAX_SETTINGS_BYTES).then(|| cadre_model::ConfigError {
        path: String::new(),
        line: None,
        message: format!(
            "the settings are {len} bytes, more than the {MAX_SETTINGS_BYTES} (64 KiB) a program is given"
        ),
    })
}

impl Limits {
    /// The epoch deadline in ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_nanos().max(1);
        (self.deadline.as_nanos().div_ceil(tick)).max(1) as u64
    }
}
