//! Writing live's report so that a crash, a power cut or a full disk loses
//! at most one checkpoint interval.
//!
//! The report is written straight to a temporary file beside the output
//! (not rendered into memory first: a large report's bytes would step the
//! RSS up at each checkpoint), flushed to the disk (`fsync`), renamed over
//! the output and the directory synced: a reader — or the machine after a
//! power cut — sees the previous report or the whole new one. A write that fails
//! (ENOSPC, EACCES, a read-only remount) removes its temporary file and
//! leaves the previous report as it was; the caller says so once and tries
//! again at the next checkpoint.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One failed write: the file, what failed, and the fix (what it means for
/// the run — capturing goes on, or live stops — is the caller's to say).
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write the report ({step}: {source}){}", fix.clause(crate::report::lang::Lang::En))]
pub struct CheckpointError {
    pub path: String,
    pub step: &'static str,
    pub source: std::io::Error,
    pub fix: Fix,
}

/// What to do about a failed write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    FreeSpace,
    Permissions,
    Remount,
    MissingDirectory,
    /// Nothing to say beyond the error.
    Other,
}

impl Fix {
    /// The fix, or `None` where the error says all there is.
    pub fn text(self, lang: crate::report::lang::Lang) -> Option<&'static str> {
        Some(match self {
            Fix::FreeSpace => crate::term!(
                lang,
                "the file system is full: free space there",
                "ファイルシステムが満杯です。空きを作ってください"
            ),
            Fix::Permissions => crate::term!(
                lang,
                "give the user live runs as write access to the file and its directory (or choose --user)",
                "実行ユーザにファイルとそのディレクトリへの書き込み権限を与えてください（または --user で選んでください）"
            ),
            Fix::Remount => crate::term!(
                lang,
                "the file system is read-only: remount it read-write",
                "ファイルシステムが読み取り専用です。読み書きできるようにマウントし直してください"
            ),
            Fix::MissingDirectory => crate::term!(
                lang,
                "its directory does not exist: create it",
                "ディレクトリがありません。作成してください"
            ),
            Fix::Other => return None,
        })
    }

    /// `"; the fix"`, or nothing.
    fn clause(self, lang: crate::report::lang::Lang) -> String {
        self.text(lang)
            .map(|t| format!("; {t}"))
            .unwrap_or_default()
    }
}

impl CheckpointError {
    /// The same failure again (so it is said once, not every interval).
    pub fn same_as(&self, other: &CheckpointError) -> bool {
        self.step == other.step && self.source.kind() == other.source.kind()
    }
}

fn fix_for(e: &std::io::Error) -> Fix {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Fix::FreeSpace,
        ErrorKind::PermissionDenied => Fix::Permissions,
        ErrorKind::ReadOnlyFilesystem => Fix::Remount,
        ErrorKind::NotFound => Fix::MissingDirectory,
        _ => Fix::Other,
    }
}

/// The buffer between a report's exporter and its file.
const BUFFER: usize = 1 << 16;

/// The temporary file a write of `path` goes through.
pub fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    directory(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces `path` with `bytes`, durably and atomically (module docs).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    write_with(path, |w| w.write_all(bytes))
}

/// Replaces `path` with what `render` writes, durably and atomically
/// (module docs): `render` writes into the temporary file, through a
/// buffer. A path that is not a regular file (`/dev/stdout`, a FIFO) is
/// written in place.
pub fn write_with(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CheckpointError> {
    match write_temporary(path, render)? {
        Some(pending) => pending.commit(),
        None => Ok(()),
    }
}

/// A report written into its temporary file, not yet on the disk nor in
/// place: [`Pending::commit`] does that (on another thread, for live: an
/// `fsync` on a busy or slow disk takes seconds, which must not stop the
/// engine).
#[derive(Debug)]
pub struct Pending {
    path: PathBuf,
    tmp: PathBuf,
    file: std::fs::File,
}

fn failure<'p>(
    path: &'p Path,
    step: &'static str,
) -> impl Fn(std::io::Error) -> CheckpointError + 'p {
    move |source: std::io::Error| CheckpointError {
        path: path.display().to_string(),
        step,
        fix: fix_for(&source),
        source,
    }
}

/// The first half of [`write_with`]: what `render` writes goes into the
/// temporary file (`None`: the path is not a regular file and was written
/// in place, nothing is left to do). On failure the temporary file is gone.
pub fn write_temporary(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Option<Pending>, CheckpointError> {
    let fail = |step| failure(path, step);
    let regular = match std::fs::metadata(path) {
        Ok(meta) => meta.is_file(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(fail("stat")(e)),
    };
    if !regular {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(fail("open"))?;
        let mut w = std::io::BufWriter::with_capacity(BUFFER, f);
        render(&mut w)
            .and_then(|()| w.flush())
            .map_err(fail("write"))?;
        return Ok(None);
    }
    let tmp = temporary(path);
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(fail("create a temporary file"))?;
        let mut w = std::io::BufWriter::with_capacity(BUFFER, f);
        render(&mut w)
            .and_then(|()| w.flush())
            .map_err(fail("write"))?;
        w.into_inner().map_err(|e| fail("write")(e.into_error()))
    })();
    match result {
        Ok(file) => Ok(Some(Pending {
            path: path.to_path_buf(),
            tmp,
            file,
        })),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

impl Pending {
    /// The second half of [`write_with`]: the temporary file to the disk,
    /// renamed over the report, the directory synced. On failure the
    /// temporary file is removed and the report left as it was.
    pub fn commit(self) -> Result<(), CheckpointError> {
        let Pending { path, tmp, file } = self;
        let fail = |step| failure(&path, step);
        let result = (|| {
            file.sync_all().map_err(fail("fsync"))?;
            drop(file);
            std::fs::rename(&tmp, &path).map_err(fail("rename"))?;
            // The rename itself reaches the disk with the directory.
            if let Ok(dir) = std::fs::File::open(directory(&path)) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Checks, as the user live now runs as, that `path` can be written the way
/// [`write`] writes it (a temporary file in its directory): so that a wrong
/// owner is one line at the start, not a surprise at the first checkpoint.
pub fn probe(path: &Path) -> Result<(), CheckpointError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Ok(()),
        _ => {}
    }
    let tmp = temporary(path);
    let made = std::fs::File::create(&tmp).map_err(|source| CheckpointError {
        path: path.display().to_string(),
        step: "create a temporary file beside it",
        fix: fix_for(&source),
        source,
    });
    let _ = std::fs::remove_file(&tmp);
    made.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        probe(&path).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_checkpoint_is_one_line_naming_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("r.json");
        let e = write(&path, b"x").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with(&path.display().to_string()), "{s}");
        assert!(s.contains("create a temporary file"), "{s}");
        assert!(
            s.ends_with("its directory does not exist: create it"),
            "{s}"
        );
        assert_eq!(s.lines().count(), 1);
        assert!(e.same_as(&write(&path, b"y").unwrap_err()));
        assert!(probe(&path).is_err());
    }
}
