//! Capture files: recognises classic pcap and pcapng by content and walks their
//! records without copying packet bytes.
//!
//! Owns: file headers, record framing, timestamps (converted to nanoseconds
//! since the Unix epoch), per-interface link types, and damage reporting
//! (a warning with the byte offset, the rest of the file still read where
//! the format allows resynchronising).

use std::path::Path;

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pcap,
    Pcapng,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
        }
    }
}

/// One captured record, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Nanoseconds since the Unix epoch (UTC).
    pub ts_ns: i64,
    /// LINKTYPE_* value of the interface that captured it.
    pub linktype: u32,
    /// Captured bytes (possibly fewer than `orig_len`).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the file.
    pub offset: u64,
}

/// Damage found while reading; the analysis continues with what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub offset: u64,
    pub message: String,
}

/// A capture that cannot be read at all (status 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: at byte {offset}: {message}")]
pub struct CaptureError {
    pub path: String,
    pub offset: u64,
    pub message: String,
}

/// Streams the records of one capture file.
pub struct CaptureReader {
    _private: (),
}

impl CaptureReader {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let _ = path;
        todo!()
    }

    /// Reads from any byte source (tests, fuzzing); `name` is used in messages.
    pub fn from_read(
        source: Box<dyn std::io::Read + Send>,
        name: &str,
    ) -> Result<CaptureReader, CaptureError> {
        let _ = (source, name);
        todo!()
    }

    pub fn format(&self) -> Format {
        todo!()
    }

    /// Timestamp of the next record without consuming it; `None` at the end
    /// (or where damage stopped the reading: see `warnings`).
    pub fn peek_ts(&mut self) -> Option<i64> {
        todo!()
    }

    /// The next record; `None` at the end or where damage stopped the reading.
    pub fn next_packet(&mut self) -> Option<Packet<'_>> {
        todo!()
    }

    /// Damage found so far.
    pub fn warnings(&self) -> &[Warning] {
        todo!()
    }

    /// Link types of the interfaces declared so far, in order of first appearance, deduplicated.
    pub fn linktypes(&self) -> &[u32] {
        todo!()
    }

    /// Bytes consumed so far (for progress).
    pub fn position(&self) -> u64 {
        todo!()
    }

    /// File size when known.
    pub fn total_len(&self) -> Option<u64> {
        todo!()
    }
}
