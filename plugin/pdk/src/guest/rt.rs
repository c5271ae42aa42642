//! The smallest runtime a `no_std` component needs on `wasm32-wasip2` (the same four things as the repository's
//! `plugin/guest-rt`, carried here so that a plugin depends on nothing but this crate).
//!
//! A component built with `std` imports a dozen WASI interfaces through std's stderr and exit paths; Cadre gives
//! plugins no WASI at all, so a plugin is `no_std` in its WebAssembly build and this module provides:
//! - a global allocator (`dlmalloc` over `memory.grow`);
//! - a panic handler that logs the panic's message, file and line at `error` level through the `log` import, then
//!   aborts the call with `unreachable`: the host attaches that line to the call's error, so a moderator reads
//!   `… (the plugin logged: panicked at src/lib.rs:40: …)` instead of only "wasm `unreachable` executed";
//! - `cabi_realloc`, the canonical-ABI allocation export the host calls to pass strings and lists in;
//! - `memcmp`, which `core` lowers slice comparisons to.

use alloc::alloc::{Layout, alloc as allocate, realloc};
use alloc::string::String;
use core::fmt::Write;

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut message = String::from("panicked");
    if let Some(location) = info.location() {
        let _ = write!(message, " at {}:{}", location.file(), location.line());
    }
    let _ = write!(message, ": {}", info.message());
    super::log(crate::log::Level::Error, &message);
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocator: the host calls it to place arguments (strings, lists) in guest memory.
///
/// # Safety
/// Called by the host with a pointer/length previously returned by this function (or zero), and a power-of-two
/// alignment.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    if new_len == 0 {
        return align as *mut u8;
    }
    // SAFETY: the canonical ABI guarantees a valid power-of-two alignment and, for a reallocation, a pointer and
    // length this allocator handed out.
    let ptr = unsafe {
        if old_len == 0 {
            allocate(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(old_ptr, Layout::from_size_align_unchecked(old_len, align), new_len)
        }
    };
    if ptr.is_null() {
        // Out of memory (the host's memory limit refused to grow): abort the call.
        core::arch::wasm32::unreachable();
    }
    ptr
}

/// Byte-wise comparison, as C's `memcmp`.
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are readable for `n` bytes.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}
