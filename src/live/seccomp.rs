//! The system-call filter live confines itself with once the interface is
//! open and the privileges are given up (Linux).
//!
//! The list is what the engine was measured to call (`strace -f -c` over a
//! replay with a checkpoint every second, SIGHUP, the interface taken down,
//! deleted and re-created, and the final report: see the README), plus
//! what glibc and the Rust runtime call on paths a short run does not take
//! (a new worker thread, a panic's backtrace). Anything else kills the
//! process (`SIGSYS`): a missing entry is found at once by the namespace
//! tests instead of degrading quietly for months, and an exploited parser
//! gains nothing — no `execve`, no `connect`, no `ptrace`, no `mount`.
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
    let mut list = calls![
        // Reading the capture, the clock, sleeping, and the hand-off between
        // the two threads.
        SYS_read,
        SYS_recvfrom,
        SYS_recvmsg,
        SYS_ppoll,
        SYS_getsockopt,
        SYS_clock_gettime,
        SYS_clock_nanosleep,
        SYS_nanosleep,
        SYS_futex,
        SYS_sched_yield,
        SYS_getrandom,
        // Memory.
        SYS_mmap,
        SYS_munmap,
        SYS_mremap,
        SYS_mprotect,
        SYS_madvise,
        SYS_brk,
        // Writing findings, checkpoints and the final report, and reopening
        // the output after SIGHUP.
        SYS_write,
        SYS_writev,
        SYS_openat,
        SYS_close,
        SYS_fstat,
        SYS_newfstatat,
        SYS_statx,
        SYS_lseek,
        SYS_fsync,
        SYS_fdatasync,
        SYS_renameat,
        SYS_renameat2,
        SYS_unlinkat,
        SYS_fcntl,
        SYS_ioctl,
        SYS_getdents64,
        // Reopening the interface after an outage (libpcap), with the
        // capture capabilities raised around it.
        SYS_socket,
        SYS_bind,
        SYS_setsockopt,
        SYS_getsockname,
        SYS_sendto,
        SYS_capget,
        SYS_capset,
        SYS_uname,
        // Signals (SIGINT/SIGTERM/SIGHUP handlers, and a second signal's exit).
        SYS_rt_sigaction,
        SYS_rt_sigprocmask,
        SYS_rt_sigreturn,
        SYS_sigaltstack,
        SYS_getpid,
        SYS_gettid,
        SYS_tgkill,
        // Threads (rayon's pool for the report, started on first use) and
        // their end.
        SYS_clone,
        SYS_clone3,
        SYS_set_robust_list,
        SYS_rseq,
        SYS_sched_getaffinity,
        SYS_prctl,
        SYS_exit,
        SYS_exit_group,
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend(calls![
        SYS_poll,
        SYS_open,
        SYS_stat,
        SYS_rename,
        SYS_unlink,
        SYS_arch_prctl
    ]);
    list.sort_unstable();
    list.dedup();
    list
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
        for needed in ["SYS_recvfrom", "SYS_renameat", "SYS_fsync", "SYS_socket"] {
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
    }
}
