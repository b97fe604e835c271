//! Giving up root once the interface is open.
//!
//! `live` needs privileges for one thing: opening a packet socket on the
//! interface (CAP_NET_RAW, and CAP_NET_ADMIN for promiscuous mode and a
//! capture buffer above `net.core.rmem_max`). Everything after that — parsing
//! hostile traffic for months — runs as an unprivileged user: its own group
//! only, no supplementary groups, no effective capability, and (Linux, see
//! [`super::seccomp`]) a system-call filter.
//!
//! One exception, and why: an interface that is deleted and re-created (a
//! VM's vNIC, a USB NIC, a bond) can only be captured again through a new
//! packet socket, which needs CAP_NET_RAW. So CAP_NET_RAW and CAP_NET_ADMIN,
//! where the process had them, stay in the *permitted* set — never
//! effective, never inheritable, not ambient — and the capture thread raises
//! them on itself only around a reopen ([`with_capture_capabilities`]). Every
//! other capability leaves the permitted and the bounding set. The effective
//! set (`CapEff` in `/proc/PID/status`) is 0 the whole run.

#[cfg(target_os = "linux")]
use caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid, User};

/// The user `live` switches to when `--user` is not given and this one exists.
pub const OWN_USER: &str = "flowlint";
/// The fallback when there is no [`OWN_USER`].
pub const FALLBACK_USER: &str = "nobody";

/// Why the privileges could not be given up (status 2: running on with root
/// the user did not ask for would be worse than not running).
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("--user {0}: no such user; create it (useradd --system --no-create-home {0}) or name another with --user")]
    NoSuchUser(String),
    #[error("--user {0}: it is root; to keep root say --no-drop-privileges instead")]
    Root(String),
    #[error("--user {user}: cannot switch to it: flowlint was not started as root (started as uid {uid}); leave out --user, or start it as root")]
    NotRoot { user: String, uid: u32 },
    #[error("cannot give up root ({step}: {source}); run as root with CAP_SETUID/CAP_SETGID, or say --no-drop-privileges")]
    Failed {
        step: &'static str,
        source: std::io::Error,
    },
}

fn failed(step: &'static str) -> impl FnOnce(nix::Error) -> PrivilegeError {
    move |e| PrivilegeError::Failed {
        step,
        source: std::io::Error::from(e),
    }
}

#[cfg(target_os = "linux")]
fn caps_failed(step: &'static str) -> impl FnOnce(caps::errors::CapsError) -> PrivilegeError {
    move |e| PrivilegeError::Failed {
        step,
        source: std::io::Error::other(e.to_string()),
    }
}

/// Who the process is once [`drop_privileges`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The user name switched to (`None`: the process was not root and
    /// stays who it was).
    pub user: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Capabilities left in the permitted set for reopening the interface
    /// (never effective), by their `CAP_` names.
    pub kept_for_reopen: Vec<String>,
}

/// The user to switch to: `--user`, else [`OWN_USER`] where it exists, else
/// [`FALLBACK_USER`].
pub fn target_user(requested: Option<&str>) -> Result<User, PrivilegeError> {
    let lookup = |name: &str| User::from_name(name).ok().flatten();
    match requested {
        Some(name) => lookup(name).ok_or_else(|| PrivilegeError::NoSuchUser(name.to_string())),
        None => lookup(OWN_USER)
            .or_else(|| lookup(FALLBACK_USER))
            .ok_or_else(|| PrivilegeError::NoSuchUser(FALLBACK_USER.to_string())),
    }
}

/// The capabilities a reopen of the interface needs.
#[cfg(target_os = "linux")]
fn capture_caps() -> [Capability; 2] {
    [Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN]
}

/// Switches to the unprivileged user (when root) and leaves no effective
/// capability. Call it on the only thread of the process: credentials and
/// capabilities are per thread in the kernel (glibc spreads `setuid` to every
/// thread, but capability sets it does not), and threads started afterwards
/// inherit what the caller has.
pub fn drop_privileges(requested: Option<&str>) -> Result<Dropped, PrivilegeError> {
    // Another thread would keep what it has (capability sets are per
    // thread): then nothing stays permitted, so that setuid empties every
    // thread's sets, and an interface that is re-created cannot be reopened.
    #[cfg(target_os = "linux")]
    let alone = std::fs::read_dir("/proc/self/task").is_ok_and(|d| d.count() == 1);
    #[cfg(target_os = "linux")]
    let keep: CapsHashSet = {
        let permitted = caps::read(None, CapSet::Permitted).unwrap_or_default();
        capture_caps()
            .into_iter()
            .filter(|c| alone && permitted.contains(c))
            .collect()
    };
    let switch_to = if Uid::effective().is_root() {
        let user = target_user(requested)?;
        if user.uid.is_root() {
            return Err(PrivilegeError::Root(user.name));
        }
        Some(user)
    } else {
        if let Some(name) = requested {
            let me = Uid::current();
            if target_user(Some(name))?.uid != me {
                return Err(PrivilegeError::NotRoot {
                    user: name.to_string(),
                    uid: me.as_raw(),
                });
            }
        }
        None
    };
    if let Some(user) = &switch_to {
        #[cfg(target_os = "linux")]
        {
            // Keep the permitted set across setuid (it would be emptied), so
            // that the two capture capabilities can stay there; the rest is
            // taken out of the bounding set first, which needs CAP_SETPCAP
            // and so must happen while still root.
            caps::securebits::set_keepcaps(!keep.is_empty())
                .map_err(caps_failed("prctl(PR_SET_KEEPCAPS)"))?;
            for cap in caps::all() {
                if !keep.contains(&cap) {
                    // A capability this kernel does not know is not an error.
                    let _ = caps::drop(None, CapSet::Bounding, cap);
                }
            }
        }
        nix::unistd::setgroups(&[]).map_err(failed("setgroups"))?;
        nix::unistd::setgid(user.gid).map_err(failed("setgid"))?;
        nix::unistd::setuid(user.uid).map_err(failed("setuid"))?;
        #[cfg(target_os = "linux")]
        caps::securebits::set_keepcaps(false).map_err(caps_failed("prctl(PR_SET_KEEPCAPS)"))?;
        // Proof that root is gone for good: getting it back must fail.
        if nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
            return Err(PrivilegeError::Failed {
                step: "setuid(0) still succeeds after setuid",
                source: std::io::Error::other("root could be regained"),
            });
        }
    }
    #[cfg(target_os = "linux")]
    {
        caps::clear(None, CapSet::Ambient).map_err(caps_failed("clearing the ambient set"))?;
        caps::clear(None, CapSet::Effective).map_err(caps_failed("clearing the effective set"))?;
        caps::clear(None, CapSet::Inheritable)
            .map_err(caps_failed("clearing the inheritable set"))?;
        caps::set(None, CapSet::Permitted, &keep)
            .map_err(caps_failed("reducing the permitted set"))?;
    }
    #[cfg(target_os = "linux")]
    let kept_for_reopen = {
        let mut names: Vec<String> = keep.iter().map(|c| c.to_string()).collect();
        names.sort();
        names
    };
    #[cfg(not(target_os = "linux"))]
    let kept_for_reopen = Vec::new();
    Ok(Dropped {
        user: switch_to.map(|u| u.name),
        uid: Uid::current().as_raw(),
        gid: Gid::current().as_raw(),
        kept_for_reopen,
    })
}

/// Runs `open` with the capture capabilities raised on the calling thread
/// only (they are in its permitted set: see the module docs), lowering them
/// again whatever `open` returned. Without them (`--no-drop-privileges` as
/// root has them effective anyway; a process started without them never
/// had them) `open` simply runs.
pub fn with_capture_capabilities<T>(open: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    {
        let permitted = caps::read(None, CapSet::Permitted).unwrap_or_default();
        let effective = caps::read(None, CapSet::Effective).unwrap_or_default();
        let raised: Vec<Capability> = capture_caps()
            .into_iter()
            .filter(|c| permitted.contains(c) && !effective.contains(c))
            .filter(|c| caps::raise(None, CapSet::Effective, *c).is_ok())
            .collect();
        let result = open();
        for c in raised {
            let _ = caps::drop(None, CapSet::Effective, c);
        }
        result
    }
    #[cfg(not(target_os = "linux"))]
    open()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_user_names_itself_and_the_fix() {
        let e = target_user(Some("flowlint-no-such-user")).unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with("--user flowlint-no-such-user: no such user"),
            "{s}"
        );
        assert!(s.contains("useradd"), "{s}");
        assert_eq!(s.lines().count(), 1);
    }

    #[test]
    fn the_default_user_is_an_unprivileged_one_that_exists() {
        let u = target_user(None).unwrap();
        assert!(u.name == OWN_USER || u.name == FALLBACK_USER, "{}", u.name);
        assert!(!u.uid.is_root());
    }
}
