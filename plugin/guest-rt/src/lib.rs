//! The smallest runtime a `no_std` Cadre component needs on `wasm32-wasip2`.
//!
//! A component built with `std` imports a dozen WASI interfaces (through std's stderr and exit paths) even if it
//! never uses them; Cadre gives plugins no WASI at all, so its components are `no_std`. Without std and libc, four
//! things are missing, and this crate provides exactly those:
//! - a global allocator (`dlmalloc` over `memory.grow`);
//! - a panic handler (a panic aborts the call with `unreachable`, which the host reports as a trap; with the
//!   `log-panics` feature, for contract 0.2.0 components, it first logs the panic's message through the `log`
//!   import so the host's error carries it);
//! - `cabi_realloc`, the canonical-ABI allocation export the host calls to pass strings and lists in (wasi-libc
//!   provides it for std components);
//! - `memcmp`, which `core` lowers slice comparisons to (copies and fills use bulk-memory instructions).
//!
//! Link it into a component with `use cadre_guest_rt as _;`. It is not part of the native workspace: a panic
//! handler cannot coexist with std.
#![no_std]

extern crate alloc;

use alloc::alloc::{Layout, alloc as allocate, realloc};

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(feature = "log-panics")]
    log_panic(_info);
    core::arch::wasm32::unreachable()
}

/// Contract 0.2.0: hand the panic's message (with its file and line) to the host's `log` import at `error` level
/// before aborting, so the host's error says why (`… (the plugin logged: panicked at src/lib.rs:9: boom)`).
/// A 0.1.0 component has no log import and must not enable the `log-panics` feature.
#[cfg(feature = "log-panics")]
fn log_panic(info: &core::panic::PanicInfo<'_>) {
    use alloc::string::String;
    use core::fmt::Write;

    // The canonical-ABI lowering of `log: func(level: level, message: string)`: the enum as its index, the string
    // as pointer and length. `error` is the fourth case of `level`.
    #[link(wasm_import_module = "cadre:forum/log@0.2.0")]
    unsafe extern "C" {
        #[link_name = "log"]
        fn host_log(level: i32, ptr: *const u8, len: usize);
    }
    const ERROR: i32 = 3;
    let mut message = String::from("panicked");
    if let Some(location) = info.location() {
        let _ = write!(message, " at {}:{}", location.file(), location.line());
    }
    let _ = write!(message, ": {}", info.message());
    // SAFETY: the pointer and length describe `message`, alive for the call; the host copies the bytes.
    unsafe { host_log(ERROR, message.as_ptr(), message.len()) };
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
