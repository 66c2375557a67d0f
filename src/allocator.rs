//! The `meso` binary's memory policy: its global allocator (mimalloc for the master, agent
//! and every other role, glibc's malloc for `meso executor`) and, for the master, no
//! transparent huge pages.
//!
//! Why two: a master failover allocates ~400 MB of small objects (10,000 agents' tasks) in
//! about a second on several threads. With glibc's malloc, growing its per-thread arenas
//! (`mprotect`, page faults) and malloc/free themselves took about a third of the new
//! leader's CPU; mimalloc halved the re-registration time (BENCHMARKS.md, issue 7). The
//! built-in executor is the opposite case: one small process per task, where mimalloc more
//! than doubled the resident memory (3 to 8 MB, against a 4 MB target).
//!
//! Invariants:
//! - The choice is made once, before the first allocation can observe it, and never
//!   changes: every block is freed by the allocator that made it.
//! - It is made from `argv[1]` by a function in `.init_array`, which glibc runs before
//!   `main` with the process's arguments, without allocating. Should an allocation come
//!   first (nothing in Rust's start-up allocates), it locks in glibc's malloc.
//! - The same function turns transparent huge pages off for `meso master` and
//!   `meso agent-emulator` only (see [`turns_off_huge_pages`]): an agent's tasks would
//!   inherit the setting.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The allocator `meso` runs with (see the module docs).
pub struct RoleAllocator;

impl RoleAllocator {
    fn mimalloc() -> bool {
        match CHOICE.load(Ordering::Relaxed) {
            MIMALLOC => true,
            SYSTEM => false,
            _ => match CHOICE.compare_exchange(
                UNDECIDED,
                SYSTEM,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => false,
                Err(decided) => decided == MIMALLOC,
            },
        }
    }
}

// SAFETY: every call goes to one of two sound allocators, and always the same one for the
// life of the process (`CHOICE` is written once), so a block is always freed or resized by
// the allocator that returned it.
unsafe impl GlobalAlloc for RoleAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::mimalloc() {
            MiMalloc.alloc(layout)
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::mimalloc() {
            MiMalloc.alloc_zeroed(layout)
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::mimalloc() {
            MiMalloc.dealloc(ptr, layout)
        } else {
            System.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::mimalloc() {
            MiMalloc.realloc(ptr, layout, new_size)
        } else {
            System.realloc(ptr, layout, new_size)
        }
    }
}

/// Whether a process started with these arguments uses glibc's malloc.
fn uses_system_malloc(first_argument: Option<&[u8]>) -> bool {
    first_argument == Some(b"executor")
}

/// Run by glibc before `main`, with the process's arguments.
extern "C" fn choose(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    let first = if argc > 1 && !argv.is_null() {
        // SAFETY: glibc passes `argc` valid, NUL-terminated arguments in `argv`.
        let arg = unsafe { *argv.add(1) };
        (!arg.is_null()).then(|| unsafe { CStr::from_ptr(arg) }.to_bytes())
    } else {
        None
    };
    if turns_off_huge_pages(first) {
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_thp_disable(true);
    }
    let choice = if uses_system_malloc(first) {
        SYSTEM
    } else {
        MIMALLOC
    };
    // Loses (and keeps glibc's malloc) only if something allocated already.
    let _ = CHOICE.compare_exchange(UNDECIDED, choice, Ordering::Relaxed, Ordering::Relaxed);
}

/// Whether a process started with these arguments turns transparent huge pages off
/// (`PR_SET_THP_DISABLE`): the roles that start no tasks, since children inherit the flag.
///
/// On machines whose THP policy is `always`, mimalloc's arenas are backed by huge pages.
/// In the master that made the first failover's re-registration wave 1.1-1.3 s against
/// ~0.5-0.7 s for later ones; with THP off every wave took 0.5-0.7 s (BENCHMARKS.md,
/// issue 7), and the idle master went from 33.8 to 13.2 MB resident. It is set before `main`, before
/// the allocator touches its first pages; failing to set it (an old kernel) changes
/// nothing else.
fn turns_off_huge_pages(first_argument: Option<&[u8]>) -> bool {
    matches!(first_argument, Some(b"master" | b"agent-emulator"))
}

/// glibc calls `.init_array` functions with (argc, argv, envp). Elsewhere (musl) nothing
/// is registered: the first allocation finds no choice made and locks in the system's
/// malloc for the whole process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
static CHOOSE: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = choose;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_executor_uses_glibc_malloc() {
        assert!(uses_system_malloc(Some(b"executor")));
        for other in [
            "master",
            "agent",
            "local",
            "execute",
            "agent-emulator",
            "--help",
        ] {
            assert!(!uses_system_malloc(Some(other.as_bytes())), "{other}");
        }
        assert!(!uses_system_malloc(None));
    }

    #[test]
    fn only_roles_without_tasks_turn_huge_pages_off() {
        assert!(turns_off_huge_pages(Some(b"master")));
        assert!(turns_off_huge_pages(Some(b"agent-emulator")));
        for other in ["agent", "local", "execute", "executor", "--help"] {
            assert!(!turns_off_huge_pages(Some(other.as_bytes())), "{other}");
        }
        assert!(!turns_off_huge_pages(None));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_choice_was_made_before_main_and_allocations_work() {
        // The constructor saw this test binary's own arguments.
        let first = std::env::args_os().nth(1);
        let expected = if uses_system_malloc(first.as_ref().map(|a| a.as_encoded_bytes())) {
            SYSTEM
        } else {
            MIMALLOC
        };
        assert_eq!(CHOICE.load(Ordering::Relaxed), expected);
        let v: Vec<u64> = (0..10_000).collect();
        assert_eq!(v.iter().sum::<u64>(), 49_995_000);
    }
}
