//! The smallest runtime a `no_std` Cadre component needs on `wasm32-wasip2`.
//!
//! A component built with `std` imports a dozen WASI interfaces (through std's stderr and exit paths) even if it
//! never uses them; Cadre gives plugins no WASI at all, so its components are `no_std`. Without std and libc, four
//! things are missing, and this crate provides exactly those:
//! - a global allocator (`dlmalloc` over `memory.grow`);
//! - a panic handler (a panic aborts the call with `unreachable`, which the host reports as a trap);
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
