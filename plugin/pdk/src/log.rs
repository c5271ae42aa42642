//! Lines a program writes for its author and the forum's moderators (contract 0.2.0's `log` import).
//!
//! In the WebAssembly build each line goes to the host, which shows it with the program's name and version and keeps
//! at most 20 lines of at most 1 KiB per call (the rest are counted, not kept). In a native build (a plugin's
//! `cargo test`) lines go to the test's stderr and are kept for the thread, so a test can check them with
//! [`take_lines`]. Logging never fails and never changes what a call does.

#[cfg(not(target_arch = "wasm32"))]
use alloc::{string::String, vec::Vec};

/// How important a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail for the program's author.
    Debug,
    /// Something worth knowing.
    Info,
    /// Looks wrong, the call goes on.
    Warn,
    /// The call is about to fail (a panic's message is logged at this level; the host attaches it to the error).
    Error,
}

/// Write one line.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::guest::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    native::push(level, message);
}

/// Write a `debug` line.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}

/// Write an `info` line.
pub fn info(message: &str) {
    log(Level::Info, message)
}

/// Write a `warn` line.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}

/// Write an `error` line.
pub fn error(message: &str) {
    log(Level::Error, message)
}

/// The lines this thread logged since the last call (native builds only: in a test, what the hooks said).
#[cfg(not(target_arch = "wasm32"))]
pub fn take_lines() -> Vec<(Level, String)> {
    native::LINES.with(|lines| core::mem::take(&mut *lines.borrow_mut()))
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    extern crate std;

    use super::Level;
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    std::thread_local! {
        pub(super) static LINES: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn push(level: Level, message: &str) {
        std::eprintln!("[{level:?}] {message}");
        LINES.with(|lines| lines.borrow_mut().push((level, String::from(message))));
    }
}
