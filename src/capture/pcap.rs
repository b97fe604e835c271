//! Classic pcap (libpcap's file format) and its Kuznetzov "modified" variant.
//!
//! Owns: the 24-byte file header (magic, version, snaplen, link-type field
//! with its FCS bits), record headers (16 bytes, or 24 in the modified
//! format), timestamp conversion, and resynchronising after a record header
//! whose captured length cannot be right.

use super::source::{Endian, MAX_RECORD, SCAN_LIMIT, SCAN_LOOKAHEAD};
use super::{ErrorKind, Pending, Shared, WarningKind};

/// Microsecond timestamps.
const MAGIC_USEC: u32 = 0xa1b2_c3d4;
/// Nanosecond timestamps.
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// Alexey Kuznetzov's patched libpcap: microseconds, 24-byte record headers.
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// The link-type field: bits 16..25 are reserved (libpcap refuses a file
/// using them), bit 26 says bits 28..31 hold the FCS length in 16-bit words.
const LT_RESERVED: u32 = 0x03ff_0000;
const LT_FCS_PRESENT: u32 = 0x0400_0000;

/// Records up to this size are accepted whatever the header's snaplen says
/// (snaplen is often smaller than what writers actually store, e.g. TSO/GRO
/// super-packets).
const RECORD_FLOOR: u64 = 262_144;

/// How far apart (seconds) a candidate record's timestamp may be from the
/// last good one when resynchronising.
const RESYNC_TS_WINDOW: u32 = 86_400;

/// True if `m` (the first four file bytes) is a pcap magic in either order.
pub(super) fn is_magic(m: [u8; 4]) -> bool {
    let be = u32::from_be_bytes(m);
    let le = u32::from_le_bytes(m);
    [MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED]
        .iter()
        .any(|&magic| magic == be || magic == le)
}

/// A view of the file header.
struct FileHeader<'a> {
    bytes: &'a [u8],
    endian: Endian,
}

impl<'a> FileHeader<'a> {
    const LEN: usize = 24;

    /// The header at the start of `bytes`, byte order taken from the magic.
    fn new_checked(bytes: &'a [u8]) -> Option<FileHeader<'a>> {
        let bytes = bytes.get(..Self::LEN)?;
        let magic = Endian::Big.u32(bytes, 0);
        let endian = if [MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED].contains(&magic) {
            Endian::Big
        } else {
            Endian::Little
        };
        Some(FileHeader { bytes, endian })
    }

    fn magic(&self) -> u32 {
        self.endian.u32(self.bytes, 0)
    }
    fn version_major(&self) -> u16 {
        self.endian.u16(self.bytes, 4)
    }
    fn version_minor(&self) -> u16 {
        self.endian.u16(self.bytes, 6)
    }
    fn snaplen(&self) -> u32 {
        self.endian.u32(self.bytes, 16)
    }
    fn linktype_field(&self) -> u32 {
        self.endian.u32(self.bytes, 20)
    }
}

/// A view of one record header (the first 16 bytes are the same in both
/// variants; the modified format appends ifindex, protocol, type and padding).
#[derive(Clone, Copy)]
struct RecordHeader<'a> {
    bytes: &'a [u8],
    endian: Endian,
}

impl<'a> RecordHeader<'a> {
    /// The `len`-byte header at `at` in `bytes`, if it is all there.
    fn at(bytes: &'a [u8], at: usize, len: usize, endian: Endian) -> Option<RecordHeader<'a>> {
        let bytes = bytes.get(at..at.checked_add(len)?)?;
        Some(RecordHeader { bytes, endian })
    }

    fn ts_sec(&self) -> u32 {
        self.endian.u32(self.bytes, 0)
    }
    fn ts_frac(&self) -> u32 {
        self.endian.u32(self.bytes, 4)
    }
    fn caplen(&self) -> u32 {
        self.endian.u32(self.bytes, 8)
    }
    fn orig_len(&self) -> u32 {
        self.endian.u32(self.bytes, 12)
    }
}

/// Reads the records of a classic pcap file.
pub(super) struct PcapParser {
    endian: Endian,
    nanos: bool,
    header_len: usize,
    snaplen: u32,
    linktype: u32,
    fcs_len: u8,
    /// Seconds of the last good record: resynchronisation looks near it.
    last_sec: Option<u32>,
}

impl PcapParser {
    /// Reads and checks the file header; an `Err` is (offset, message) of a
    /// file that cannot be read at all.
    pub(super) fn start(sh: &mut Shared) -> Result<PcapParser, (u64, ErrorKind)> {
        let have = sh.src.fill(FileHeader::LEN);
        let Some(h) = FileHeader::new_checked(sh.src.available()) else {
            if let Some((at, e)) = sh.src.error() {
                return Err((*at, ErrorKind::Read(e.clone())));
            }
            return Err((
                0,
                ErrorKind::PcapHeaderCut {
                    have,
                    need: FileHeader::LEN,
                },
            ));
        };
        let (major, minor) = (h.version_major(), h.version_minor());
        // libpcap and Wireshark read only major version 2; the minor varies
        // between writers and changes nothing in the layout.
        if major != 2 {
            return Err((4, ErrorKind::PcapVersion { major, minor }));
        }
        let field = h.linktype_field();
        if field & LT_RESERVED != 0 {
            return Err((20, ErrorKind::LinktypeReserved { field }));
        }
        let fcs_len = if field & LT_FCS_PRESENT != 0 {
            // At most 15 words: 30 bytes, fits a u8.
            ((field >> 28) * 2) as u8
        } else {
            0
        };
        // thiszone is ignored: writers leave it 0 and record UTC, and libpcap
        // and Wireshark ignore it too.
        let magic = h.magic();
        let parser = PcapParser {
            endian: h.endian,
            nanos: magic == MAGIC_NSEC,
            header_len: if magic == MAGIC_MODIFIED { 24 } else { 16 },
            snaplen: h.snaplen(),
            linktype: field & 0xffff,
            fcs_len,
            last_sec: None,
        };
        sh.src.consume(FileHeader::LEN);
        sh.add_linktype(parser.linktype);
        Ok(parser)
    }

    /// The largest captured length taken at face value.
    fn record_limit(&self) -> usize {
        let limit = u64::from(self.snaplen).max(RECORD_FLOOR).saturating_mul(2);
        usize::try_from(limit).unwrap_or(MAX_RECORD).min(MAX_RECORD)
    }

    fn frac_limit(&self) -> u32 {
        if self.nanos {
            1_000_000_000
        } else {
            1_000_000
        }
    }

    fn ts_ns(&self, h: &RecordHeader<'_>) -> i64 {
        let unit = if self.nanos { 1 } else { 1_000 };
        // Seconds are unsigned (valid to 2106); an out-of-range fraction is
        // added as it is, like tcpdump and Wireshark do.
        i64::from(h.ts_sec())
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(h.ts_frac()).saturating_mul(unit))
    }

    /// Could a record header (found while resynchronising) be real? `near` is
    /// a timestamp (seconds) it should be close to.
    fn plausible(&self, h: &RecordHeader<'_>, near: Option<u32>) -> bool {
        let limit = self.record_limit();
        // A zero snaplen is written by some tools to mean "no limit".
        let snap = if self.snaplen == 0 {
            u32::MAX
        } else {
            self.snaplen.max(65_535)
        };
        let caplen = h.caplen();
        let orig_len = h.orig_len();
        h.ts_frac() < self.frac_limit()
            && orig_len > 0
            && caplen <= orig_len
            && caplen <= snap
            && orig_len as usize <= limit
            && near.is_none_or(|s| h.ts_sec().abs_diff(s) <= RESYNC_TS_WINDOW)
    }

    /// The next record, or `None` at the end of the data or where damage
    /// stops the reading (a warning says which).
    pub(super) fn next_record(&mut self, sh: &mut Shared) -> Option<Pending> {
        loop {
            let offset = sh.src.offset();
            let hlen = self.header_len;
            let have = sh.src.fill(hlen);
            if have == 0 {
                sh.ended();
                return None;
            }
            let Some(h) = RecordHeader::at(sh.src.available(), 0, hlen, self.endian) else {
                sh.cut_short(offset, have, hlen);
                return None;
            };
            let caplen = h.caplen();
            if caplen as usize > self.record_limit() {
                if self.resync(sh, offset, caplen) {
                    continue;
                }
                return None;
            }
            let pending = Pending {
                ts_ns: self.ts_ns(&h),
                linktype: self.linktype,
                data_at: hlen,
                data_len: caplen as usize,
                orig_len: h.orig_len(),
                record_len: hlen + caplen as usize,
                fcs_len: self.fcs_len,
            };
            let sec = h.ts_sec();
            let have = sh.src.fill(pending.record_len);
            if have < pending.record_len {
                sh.cut_short(offset, have, pending.record_len);
                return None;
            }
            self.last_sec = Some(sec);
            return Some(pending);
        }
    }

    /// The record header at `offset` (the current position) claims `caplen`
    /// bytes, which cannot be right: look for the next plausible record header
    /// within `SCAN_LIMIT` bytes. True if found (and positioned there).
    fn resync(&mut self, sh: &mut Shared, offset: u64, caplen: u32) -> bool {
        let hlen = self.header_len;
        sh.src.fill(SCAN_LIMIT + SCAN_LOOKAHEAD);
        let eof = sh.src.at_eof();
        let data = sh.src.available();
        let mut found = None;
        for at in 1..=SCAN_LIMIT {
            let Some(h) = RecordHeader::at(data, at, hlen, self.endian) else {
                break;
            };
            if !self.plausible(&h, self.last_sec) {
                continue;
            }
            // Confirm with the record after it, where there is one.
            let next = at + hlen + h.caplen() as usize;
            let confirmed = match RecordHeader::at(data, next, hlen, self.endian) {
                Some(n) => self.plausible(&n, Some(h.ts_sec())),
                None if next == data.len() => eof,
                // The next header lies beyond the buffered window: cannot be
                // checked, the timestamp check has to do. At the end of the
                // data, a candidate running past it is no record.
                None => !eof,
            };
            if confirmed {
                found = Some(at);
                break;
            }
        }
        match found {
            Some(at) => {
                sh.warn(
                    offset,
                    WarningKind::ImplausibleRecordSkipped {
                        caplen,
                        skipped: at,
                        next: offset + at as u64,
                    },
                );
                sh.src.consume(at);
                true
            }
            None => {
                let scanned = data.len().min(SCAN_LIMIT);
                sh.warn(
                    offset,
                    WarningKind::ImplausibleRecordStopped { caplen, scanned },
                );
                false
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{CaptureError, CaptureReader, Format};
    use super::*;

    fn put32(out: &mut Vec<u8>, e: Endian, v: u32) {
        out.extend(match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        });
    }

    fn put16(out: &mut Vec<u8>, e: Endian, v: u16) {
        out.extend(match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        });
    }

    /// A pcap file header: version 2.4, snaplen 65535.
    pub(crate) fn header(e: Endian, magic: u32, linktype_field: u32) -> Vec<u8> {
        header_v(e, magic, 2, 4, 65_535, linktype_field)
    }

    fn header_v(e: Endian, magic: u32, major: u16, minor: u16, snap: u32, lt: u32) -> Vec<u8> {
        let mut out = Vec::new();
        put32(&mut out, e, magic);
        put16(&mut out, e, major);
        put16(&mut out, e, minor);
        put32(&mut out, e, 0);
        put32(&mut out, e, 0);
        put32(&mut out, e, snap);
        put32(&mut out, e, lt);
        out
    }

    /// A standard 16-byte record header plus data.
    pub(crate) fn record(e: Endian, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut out = Vec::new();
        put32(&mut out, e, sec);
        put32(&mut out, e, frac);
        put32(&mut out, e, data.len() as u32);
        put32(&mut out, e, orig);
        out.extend_from_slice(data);
        out
    }

    pub(crate) fn header_le(magic: u32, linktype: u32) -> Vec<u8> {
        header(Endian::Little, magic, linktype)
    }

    pub(crate) fn record_le(sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        record(Endian::Little, sec, frac, data, orig)
    }

    fn open(bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
        CaptureReader::from_read(Box::new(std::io::Cursor::new(bytes)), "t.pcap")
    }

    /// (ts_ns, linktype, data, orig_len, offset, fcs_len) of every record.
    use crate::capture::test_util::{read_all, texts, warn};

    #[test]
    fn all_magics_in_both_byte_orders() {
        for e in [Endian::Little, Endian::Big] {
            for (magic, unit) in [(MAGIC_USEC, 1_000), (MAGIC_NSEC, 1)] {
                let mut f = header(e, magic, 1);
                f.extend(record(e, 1_700_000_000, 123_456, &[0xaa, 0xbb], 60));
                f.extend(record(e, 1_700_000_001, 0, &[], 0));
                let mut r = open(f).expect("open");
                assert_eq!(r.format(), Format::PCAP);
                assert_eq!(r.linktypes(), &[1]);
                let rows = read_all(&mut r);
                assert_eq!(
                    rows,
                    vec![
                        (
                            1_700_000_000_000_000_000 + 123_456 * unit,
                            1,
                            vec![0xaa, 0xbb],
                            60,
                            24,
                            0
                        ),
                        (1_700_000_001_000_000_000, 1, vec![], 0, 42, 0),
                    ],
                    "{e:?} {magic:x}"
                );
                assert!(r.warnings().is_empty());
                assert_eq!(r.position(), 58);
            }
        }
    }

    #[test]
    fn modified_format_has_24_byte_record_headers() {
        for e in [Endian::Little, Endian::Big] {
            let mut f = header(e, MAGIC_MODIFIED, 101);
            let mut rec = Vec::new();
            put32(&mut rec, e, 10);
            put32(&mut rec, e, 5);
            put32(&mut rec, e, 3);
            put32(&mut rec, e, 3);
            rec.extend([0, 0, 0, 2, 0x08, 0x00, 0, 0]); // ifindex, protocol, type, pad
            rec.extend([7, 8, 9]);
            f.extend(&rec);
            f.extend(&rec);
            let mut r = open(f).expect("open");
            let rows = read_all(&mut r);
            assert_eq!(
                rows,
                vec![
                    (10_000_005_000, 101, vec![7, 8, 9], 3, 24, 0),
                    (10_000_005_000, 101, vec![7, 8, 9], 3, 51, 0),
                ]
            );
            assert!(r.warnings().is_empty());
        }
    }

    #[test]
    fn header_errors() {
        let e = open(header_v(Endian::Little, MAGIC_USEC, 1, 4, 65535, 1))
            .err()
            .expect("err");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (4, "unsupported pcap version 1.4")
        );
        let e = open(header_le(MAGIC_USEC, 0x0030_0001)).err().expect("err");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (20, "link-type field has reserved bits set (0x00300001)")
        );
        let e = open(header_le(MAGIC_NSEC, 1)[..10].to_vec())
            .err()
            .expect("err");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (0, "file ends inside the pcap file header (10 of 24 bytes)")
        );
        // An unusual minor version is fine.
        let r = open(header_v(Endian::Big, MAGIC_USEC, 2, 5, 65535, 1));
        assert!(r.is_ok());
    }

    #[test]
    fn fcs_bits_give_fcs_len() {
        // F bit and 2 words: a 4-byte FCS on Ethernet.
        let mut f = header_le(MAGIC_USEC, 0x2400_0001);
        f.extend(record_le(1, 0, &[1, 2, 3, 4, 5], 5));
        let mut r = open(f).expect("open");
        assert_eq!(r.linktypes(), &[1]);
        let p = r.next_packet().expect("packet");
        assert_eq!((p.linktype, p.fcs_len), (1, 4));
    }

    #[test]
    fn timestamps_beyond_2038_and_out_of_range_fractions() {
        let mut f = header_le(MAGIC_USEC, 1);
        f.extend(record_le(u32::MAX, 999_999, &[], 0));
        f.extend(record_le(5, 1_500_000, &[], 0));
        f.extend(record_le(5, u32::MAX, &[], 0));
        let mut r = open(f).expect("open");
        let ts: Vec<i64> = read_all(&mut r).into_iter().map(|row| row.0).collect();
        assert_eq!(
            ts,
            vec![
                4_294_967_295_999_999_000,
                6_500_000_000,
                5_000_000_000 + 4_294_967_295_000
            ]
        );
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn cut_short_in_header_and_in_body() {
        let mut f = header_le(MAGIC_USEC, 1);
        f.extend(record_le(1, 0, &[1; 10], 10));
        let mut cut = f.clone();
        cut.extend(&record_le(2, 0, &[2; 10], 10)[..20]);
        let mut r = open(cut).expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(
            texts(r.warnings()),
            &[warn(50, "file ends inside a record (20 of 26 bytes)")]
        );
        f.extend(&record_le(2, 0, &[2; 10], 10)[..7]);
        let mut r = open(f).expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(
            texts(r.warnings()),
            &[warn(50, "file ends inside a record (7 of 16 bytes)")]
        );
        // Nothing more after the end, and no repeated warning.
        assert!(r.next_packet().is_none());
        assert_eq!(r.peek_ts(), None);
        assert_eq!(r.warnings().len(), 1);
    }

    #[test]
    fn absurd_caplen_resynchronises_without_allocating() {
        let mut f = header_le(MAGIC_USEC, 1);
        f.extend(record_le(100, 0, &[1; 20], 20));
        // A record header claiming 0xFFFFFFF0 bytes, then 37 bytes of junk.
        let mut bad = record_le(100, 5, &[], 60);
        bad[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        f.extend(bad);
        f.extend([0x55; 37]);
        f.extend(record_le(101, 7, &[3; 30], 30));
        f.extend(record_le(102, 8, &[4; 4], 64));
        let mut r = open(f).expect("open");
        let rows = read_all(&mut r);
        assert_eq!(
            rows.iter()
                .map(|x| (x.0, x.4, x.2.len()))
                .collect::<Vec<_>>(),
            vec![
                (100_000_000_000, 24, 20),
                (101_000_007_000, 113, 30),
                (102_000_008_000, 159, 4)
            ]
        );
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                60,
                "record claims 4294967280 captured bytes (implausible); \
                 skipped 53 bytes to the next plausible record at byte 113"
            )]
        );
        assert!(r.shared.src.available().len() < 1 << 20);
    }

    #[test]
    fn absurd_caplen_with_nothing_after_stops() {
        let mut f = header_le(MAGIC_NSEC, 1);
        let mut bad = record_le(100, 5, &[], 60);
        bad[8..12].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        f.extend(bad);
        f.extend([0u8; 100]);
        let mut r = open(f).expect("open");
        assert!(r.next_packet().is_none());
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                24,
                "record claims 2147483632 captured bytes (implausible); \
                 no plausible record in the next 116 bytes, reading stopped"
            )]
        );
    }

    #[test]
    fn peek_does_not_consume() {
        let mut f = header_le(MAGIC_USEC, 1);
        f.extend(record_le(1, 1, &[1], 1));
        f.extend(record_le(2, 2, &[2], 1));
        let mut r = open(f).expect("open");
        assert_eq!(r.peek_ts(), Some(1_000_001_000));
        assert_eq!(r.peek_ts(), Some(1_000_001_000));
        assert_eq!(r.position(), 24);
        assert_eq!(r.next_packet().map(|p| p.data.to_vec()), Some(vec![1]));
        assert_eq!(r.peek_ts(), Some(2_000_002_000));
        assert_eq!(
            r.next_packet().map(|p| (p.ts_ns, p.offset)),
            Some((2_000_002_000, 41))
        );
        assert_eq!(r.peek_ts(), None);
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn read_error_mid_file_is_a_warning() {
        struct Fails(Vec<u8>, usize);
        impl std::io::Read for Fails {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let rest = self.0.get(self.1..).unwrap_or(&[]);
                if rest.is_empty() {
                    return Err(std::io::Error::other("device gone"));
                }
                let n = rest.len().min(out.len());
                out[..n].copy_from_slice(&rest[..n]);
                self.1 += n;
                Ok(n)
            }
        }
        let mut f = header_le(MAGIC_USEC, 1);
        f.extend(record_le(1, 1, &[1], 1));
        let mut r = CaptureReader::from_read(Box::new(Fails(f, 0)), "t").expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(texts(r.warnings()), &[warn(41, "read error: device gone")]);
    }

    #[test]
    fn big_records_cross_buffer_refills() {
        let mut f = header_le(MAGIC_USEC, 1);
        let mut want = Vec::new();
        for i in 0..40u32 {
            let data = vec![i as u8; 100_000 + i as usize];
            want.push(data.clone());
            f.extend(record_le(i, 0, &data, data.len() as u32));
        }
        let mut r = open(f).expect("open");
        let got: Vec<Vec<u8>> = read_all(&mut r).into_iter().map(|x| x.2).collect();
        assert_eq!(got, want);
        assert!(r.warnings().is_empty());
    }
}
