//! The byte source under both capture formats: one large read buffer that
//! records are parsed from and lent out of, plus the endian-aware integer
//! reads the typed header views use.
//!
//! Owns: buffering and its growth policy, file offsets, read errors, and the
//! limits that keep a hostile length from turning into a huge allocation.

use std::io::{ErrorKind, Read};

/// Largest record (packet bytes) or block this reader accepts; anything
/// claiming more is treated as damage, never allocated.
pub(crate) const MAX_RECORD: usize = 256 << 20;

/// How far forward a damaged file is searched for the next plausible record.
pub(crate) const SCAN_LIMIT: usize = 1 << 20;

/// Extra bytes buffered past the scan window so a candidate record found near
/// its end can be checked against the record that follows it.
pub(crate) const SCAN_LOOKAHEAD: usize = 1 << 20;

/// The buffer size reads settle at for large files: large enough that
/// syscalls are rare (one per ~500 records), small enough that the records
/// a read brings in are still in the L2 cache when they are parsed and
/// decoded (with 4 MB reads, the check of a 5 GB capture took ~15 % more CPU
/// time: `perf stat -e task-clock`, high-cardinality bench mix, -j 1).
const TARGET: usize = 256 << 10;

/// First buffer size: small captures (tests, fixtures) stay small.
const INITIAL: usize = 64 << 10;

/// Hard cap on the buffer: one maximal record plus its framing.
const MAX_BUF: usize = MAX_RECORD + (64 << 10);

/// Byte order of a file section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// Reads a `u16` at `at`; 0 where the bytes are missing (views check
    /// their length up front, so that fallback is never taken in practice).
    pub(crate) fn u16(self, bytes: &[u8], at: usize) -> u16 {
        let Some(b) = at.checked_add(2).and_then(|end| bytes.get(at..end)) else {
            return 0;
        };
        let raw = [
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ];
        match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        }
    }

    /// Reads a `u32` at `at`; 0 where the bytes are missing.
    pub(crate) fn u32(self, bytes: &[u8], at: usize) -> u32 {
        let mut raw = [0u8; 4];
        match at.checked_add(4).and_then(|end| bytes.get(at..end)) {
            Some(b) => raw.copy_from_slice(b),
            None => return 0,
        }
        match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        }
    }

    /// Reads a `u64` at `at`; 0 where the bytes are missing.
    pub(crate) fn u64(self, bytes: &[u8], at: usize) -> u64 {
        let mut raw = [0u8; 8];
        match at.checked_add(8).and_then(|end| bytes.get(at..end)) {
            Some(b) => raw.copy_from_slice(b),
            None => return 0,
        }
        match self {
            Endian::Little => u64::from_le_bytes(raw),
            Endian::Big => u64::from_be_bytes(raw),
        }
    }
}

/// A reader with one growable buffer. `buf[start..end]` holds bytes read but
/// not yet consumed; `base` is the file offset of `buf[0]`.
pub(crate) struct Source {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    base: u64,
    eof: bool,
    /// A read error (not EOF) and the file offset where it happened; the
    /// source behaves as if the file ended there.
    error: Option<(u64, String)>,
}

impl Source {
    pub(crate) fn new(inner: Box<dyn Read + Send>) -> Source {
        Source {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            error: None,
        }
    }

    /// File offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The unconsumed bytes currently buffered.
    pub(crate) fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// True once the underlying reader reported its end (or failed).
    pub(crate) fn at_eof(&self) -> bool {
        self.eof
    }

    /// The read error that ended the data, if any, with its file offset.
    pub(crate) fn error(&self) -> Option<&(u64, String)> {
        self.error.as_ref()
    }

    /// Tries to have at least `need` unconsumed bytes buffered and returns how
    /// many there are (fewer only at the end of the data).
    ///
    /// The buffer grows only when it is full of bytes actually read, so a
    /// length field claiming gigabytes costs at most twice the bytes the file
    /// really holds.
    pub(crate) fn fill(&mut self, need: usize) -> usize {
        let need = need.min(MAX_BUF);
        while self.end - self.start < need && !self.eof {
            if self.end == self.buf.len() && !self.make_room() {
                break;
            }
            let Some(spare) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.inner.read(spare) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end = (self.end + n).min(self.buf.len()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some((self.base + self.end as u64, e.to_string()));
                    self.eof = true;
                }
            }
        }
        self.end - self.start
    }

    /// Frees space at the tail: moves the live bytes to the front and grows
    /// the buffer while it is small or still full. False if no space can be made.
    fn make_room(&mut self) -> bool {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() || self.buf.len() < TARGET {
            let grown = (self.buf.len() * 2).clamp(INITIAL, MAX_BUF);
            if grown > self.buf.len() {
                self.buf.resize(grown, 0);
            }
        }
        self.end < self.buf.len()
    }

    /// Marks `n` bytes as consumed (at most what is buffered). The bytes stay
    /// in place until the next `fill`, so a record just consumed can still be
    /// lent out through `slice`.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n.min(self.end - self.start);
    }

    /// Bytes at buffer index `at` (as returned by `index`), valid until the
    /// next `fill`.
    pub(crate) fn slice(&self, at: usize, len: usize) -> &[u8] {
        at.checked_add(len)
            .and_then(|end| self.buf.get(at..end))
            .unwrap_or(&[])
    }

    /// Buffer index of the first unconsumed byte.
    pub(crate) fn index(&self) -> usize {
        self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, like a pipe.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.0.get(self.1..).unwrap_or(&[]);
            let n = rest.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&rest[..n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn fill_gathers_short_reads_and_keeps_offsets() {
        let data: Vec<u8> = (0..200u8).collect();
        let mut s = Source::new(Box::new(Trickle(data, 0)));
        assert!(s.fill(10) >= 10);
        s.consume(7);
        assert_eq!(s.offset(), 7);
        assert_eq!(s.fill(5), 5);
        assert_eq!(s.available()[0], 7);
        assert_eq!(s.fill(1000), 193);
        assert!(s.at_eof());
        s.consume(1000);
        assert_eq!(s.offset(), 200);
        assert_eq!(s.fill(1), 0);
    }

    #[test]
    fn huge_need_does_not_allocate_beyond_the_data() {
        let mut s = Source::new(Box::new(std::io::Cursor::new(vec![1u8; 100])));
        assert_eq!(s.fill(usize::MAX), 100);
        assert!(s.buf.len() <= INITIAL);
    }

    #[test]
    fn read_error_ends_the_data_and_is_kept() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let mut s = Source::new(Box::new(Broken));
        assert_eq!(s.fill(4), 0);
        assert_eq!(s.error(), Some(&(0, "disk on fire".to_string())));
    }

    #[test]
    fn endian_reads() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Endian::Little.u16(&b, 0), 0x0201);
        assert_eq!(Endian::Big.u32(&b, 4), 0x0506_0708);
        assert_eq!(Endian::Little.u64(&b, 0), 0x0807_0605_0403_0201);
        assert_eq!(Endian::Big.u32(&b, 6), 0);
        assert_eq!(Endian::Big.u32(&b, usize::MAX), 0);
    }
}
