//! The system-call filter live confines itself with once the interface is
//! open and the privileges are given up (Linux).
//!
//! The list is what the engine was measured to call on x86_64 (`strace -f`
//! over a replay with a checkpoint every second, SIGHUP, the interface
//! taken down, deleted and re-created, and the final report: see the
//! README), plus what glibc calls on paths a short run does not take (a
//! large realloc, a failed write's cleanup), each said where it is listed.
//! On aarch64 it is the same list under that architecture's names
//! ([`per_architecture`]: no `poll`, `rename`, `unlink` there), derived from
//! glibc's system call table and checked by `cargo check --target
//! aarch64-unknown-linux-gnu`, not measured on such a machine.
//! Anything else kills the process (`SIGSYS`): a missing entry is found at
//! once by the namespace tests instead of degrading quietly for months, and
//! an exploited parser gains nothing — no `execve`, no `connect`, no `ptrace`, no `mount`.
//!
//! The filter is installed with TSYNC on every thread there is, and threads
//! started later inherit it.

use std::collections::BTreeMap;

use seccompiler::{SeccompAction, SeccompFilter, SeccompRule, TargetArch};

/// The allowed system calls, by name (for the README and the report) and
/// number.
pub fn allowed() -> Vec<(&'static str, i64)> {
    macro_rules! calls {
        ($($name:ident),* $(,)?) => {
            vec![$((stringify!($name), nix::libc::$name)),*]
        };
    }
    // Measured after the filter's installation point, over a replay with a
    // checkpoint every second, a link down/up, the interface deleted and
    // re-created, SIGHUP and the final report (README: "seccomp").
    let mut list = calls![
        // Reading the capture (libpcap's TPACKET ring: poll, then the ring),
        // its counters, and reopening it after an outage, with the capture
        // capabilities raised around it.
        SYS_read,
        SYS_recvfrom,
        SYS_getsockopt,
        SYS_setsockopt,
        SYS_getsockname,
        SYS_socket,
        SYS_bind,
        SYS_ioctl,
        SYS_uname,
        SYS_capget,
        SYS_capset,
        // The clock, sleeping, the hand-off between the threads.
        SYS_clock_nanosleep,
        SYS_futex,
        SYS_sched_yield,
        SYS_eventfd2,
        SYS_getrandom,
        SYS_restart_syscall,
        // Memory (mremap: glibc's realloc of large blocks, not in a short run).
        SYS_mmap,
        SYS_munmap,
        SYS_mprotect,
        SYS_madvise,
        SYS_brk,
        SYS_mremap,
        // Findings, checkpoints, the final report, the interface's state in
        // /sys, reopening the JSONL stream after SIGHUP.
        SYS_write,
        SYS_openat,
        SYS_close,
        SYS_statx,
        SYS_newfstatat,
        SYS_lseek,
        SYS_fcntl,
        SYS_fsync,
        SYS_getpid,
        // Signals: handlers run, and a second SIGINT's immediate exit.
        SYS_rt_sigaction,
        SYS_rt_sigprocmask,
        SYS_rt_sigreturn,
        SYS_sigaltstack,
        // Threads: rayon's pool for the report is started on first use;
        // new threads inherit the filter.
        SYS_clone3,
        SYS_clone,
        SYS_set_robust_list,
        SYS_rseq,
        SYS_sched_getaffinity,
        SYS_prctl,
        SYS_gettid,
        SYS_exit,
        SYS_exit_group,
    ];
    list.extend(per_architecture());
    list.sort_unstable();
    list.dedup();
    list
}

/// What libpcap's `poll()`, std's `rename()` (a checkpoint's last step)
/// and `remove_file()` (the cleanup after a failed write) become on this
/// architecture: glibc calls the old system calls where the kernel has
/// them, and the `*at`/`p*` forms where it does not (aarch64 has no
/// `open`, `stat`, `poll`, `rename` or `unlink`; `openat`, `newfstatat`
/// and `statx` are in the common list).
#[cfg(target_arch = "x86_64")]
fn per_architecture() -> Vec<(&'static str, i64)> {
    use nix::libc;
    vec![
        ("SYS_poll", libc::SYS_poll),
        ("SYS_rename", libc::SYS_rename),
        ("SYS_unlink", libc::SYS_unlink),
    ]
}

/// aarch64 (see the x86_64 version): `ppoll`; `renameat`, which glibc's
/// `rename()` uses there (the kernel has it, number 38, the libc crate has
/// no constant for it), and `renameat2` for a glibc that prefers it;
/// `unlinkat`; and `fstat`, which a glibc older than 2.33 calls instead of
/// `newfstatat`.
#[cfg(target_arch = "aarch64")]
fn per_architecture() -> Vec<(&'static str, i64)> {
    use nix::libc;
    /// `__NR_renameat` of arm64 (asm-generic with `__ARCH_WANT_RENAMEAT`).
    const SYS_RENAMEAT: i64 = 38;
    vec![
        ("SYS_ppoll", libc::SYS_ppoll),
        ("SYS_renameat", SYS_RENAMEAT),
        ("SYS_renameat2", libc::SYS_renameat2),
        ("SYS_unlinkat", libc::SYS_unlinkat),
        ("SYS_fstat", libc::SYS_fstat),
    ]
}

/// Other architectures of the asm-generic table (riscv64: no `renameat`
/// either). seccompiler knows x86_64, aarch64 and riscv64; elsewhere
/// [`install`] fails with a clear error and `--no-seccomp` runs without.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn per_architecture() -> Vec<(&'static str, i64)> {
    use nix::libc;
    vec![
        ("SYS_ppoll", libc::SYS_ppoll),
        ("SYS_renameat2", libc::SYS_renameat2),
        ("SYS_unlinkat", libc::SYS_unlinkat),
    ]
}

/// Why the filter could not be installed (status 2: the run would be less
/// confined than the user was promised).
#[derive(Debug, thiserror::Error)]
#[error("cannot install the seccomp filter ({0}); this kernel may lack seccomp (CONFIG_SECCOMP_FILTER), or say --no-seccomp")]
pub struct SeccompError(String);

/// Installs the filter on every thread of the process; returns how many
/// system calls it allows.
pub fn install() -> Result<usize, SeccompError> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| SeccompError(format!("architecture {}: {e}", std::env::consts::ARCH)))?;
    let list = allowed();
    let rules: BTreeMap<i64, Vec<SeccompRule>> =
        list.iter().map(|&(_, nr)| (nr, Vec::new())).collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| SeccompError(e.to_string()))?;
    let program: seccompiler::BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| SeccompError(e.to_string()))?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| SeccompError(e.to_string()))?;
    Ok(list.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_has_what_live_needs_and_nothing_that_escapes() {
        let names: Vec<&str> = allowed().iter().map(|(n, _)| *n).collect();
        for needed in ["SYS_recvfrom", "SYS_fsync", "SYS_socket", "SYS_capset"] {
            assert!(names.contains(&needed), "{needed} missing: {names:?}");
        }
        for never in [
            "SYS_execve",
            "SYS_execveat",
            "SYS_connect",
            "SYS_ptrace",
            "SYS_mount",
            "SYS_setuid",
            "SYS_kill",
        ] {
            assert!(!names.contains(&never), "{never} allowed");
        }
        // Polling the capture, renaming a checkpoint into place and removing
        // a failed one's temporary file, under this architecture's names.
        for any_of in [
            &["SYS_poll", "SYS_ppoll"][..],
            &["SYS_rename", "SYS_renameat", "SYS_renameat2"],
            &["SYS_unlink", "SYS_unlinkat"],
        ] {
            assert!(
                any_of.iter().any(|n| names.contains(n)),
                "none of {any_of:?}: {names:?}"
            );
        }
        #[cfg(target_arch = "aarch64")]
        for absent_there in [
            "SYS_poll",
            "SYS_rename",
            "SYS_unlink",
            "SYS_open",
            "SYS_stat",
        ] {
            assert!(!names.contains(&absent_there), "{absent_there}");
        }
    }

    #[test]
    fn every_call_is_listed_once_under_one_name() {
        let list = allowed();
        let mut numbers: Vec<i64> = list.iter().map(|&(_, nr)| nr).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), list.len(), "{list:?}");
    }
}
