//! The allocator `assay` runs with: mimalloc, asked for plain blocks wherever a plain block is
//! aligned enough.
//!
//! A batch allocates about 130 blocks per organisation (strings and lists of its assessment) on
//! every worker and frees on the writer what the workers allocated, where glibc's allocator
//! takes a lock (BENCHMARKS.md: about 30 % of the wall time). The `mimalloc` crate's allocator
//! asks for every block through `mi_malloc_aligned`, whose extra checks cost about 30
//! instructions a block; mimalloc's own rule (`mi_malloc_is_naturally_aligned` in its
//! `alloc-aligned.c`) is that a block of at least the alignment, for an alignment of at most
//! 16 bytes, comes aligned from `mi_malloc`, which is what nearly every Rust type asks for.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// mimalloc's `MI_MAX_ALIGN_SIZE`: blocks of at least this size are aligned to it.
const PLAIN_ALIGN: usize = 16;

/// mimalloc, as the global allocator of the `assay` binary and of the benchmarks.
pub struct Allocator;

fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every block comes from mimalloc and goes back to it; a block from `mi_malloc` is used
// only where mimalloc guarantees its alignment (`plain`), others come from its aligned calls.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            unsafe { mi::mi_malloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            unsafe { mi::mi_zalloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            unsafe { mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            unsafe {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment a Rust type may ask for up to 4 KiB comes back aligned, zeroed
    /// where asked, and keeps its bytes when it grows (GlobalAlloc's contract).
    #[test]
    fn blocks_are_aligned_as_asked() {
        let a = Allocator;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 15, 16, 17, 24, 48, 100, 1000, 4096] {
                let layout = Layout::from_size_align(size, align).expect("layout");
                unsafe {
                    let p = a.alloc_zeroed(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    assert!((0..size).all(|i| *p.add(i) == 0));
                    *p = 7;
                    let q = a.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "grown from {size}, align {align}");
                    assert_eq!(*q, 7);
                    a.dealloc(q, Layout::from_size_align(size * 3, align).expect("layout"));
                    let r = a.alloc(layout);
                    assert_eq!(r as usize % align, 0, "size {size}, align {align}");
                    a.dealloc(r, layout);
                }
            }
        }
    }
}
