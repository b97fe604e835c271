//! Capture file writers: classic pcap and pcapng behind one trait.
//!
//! Both write through a `BufWriter` and keep their scratch space between
//! packets, so the bulk path (benchmark generation) does no allocation per
//! packet.

use std::io::{self, BufWriter, Write};

/// Something that records link-layer frames with a timestamp.
pub trait CaptureWriter {
    /// Records one frame seen on interface `iface` (pcap has only interface 0;
    /// the index is ignored there) at `ts_ns` nanoseconds since the Unix epoch.
    /// `orig_len` is the length on the wire (≥ `data.len()` when truncated).
    fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()>;

    /// Flushes buffered output to the underlying writer.
    fn flush(&mut self) -> io::Result<()>;
}

impl<T: CaptureWriter + ?Sized> CaptureWriter for &mut T {
    fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        (**self).write_packet(iface, ts_ns, data, orig_len)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

impl<T: CaptureWriter + ?Sized> CaptureWriter for Box<T> {
    fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        (**self).write_packet(iface, ts_ns, data, orig_len)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

/// Byte order of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
    fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

/// Options of a classic pcap file.
#[derive(Clone, Copy, Debug)]
pub struct PcapOptions {
    /// Link type of every record (e.g. 1 Ethernet, 101 raw IP).
    pub linktype: u32,
    /// Nanosecond magic (0xa1b23c4d) instead of microseconds (0xa1b2c3d4).
    pub nanos: bool,
    pub endian: Endian,
    /// Records longer than this are truncated (`incl_len < orig_len`).
    pub snaplen: u32,
}

impl PcapOptions {
    /// Microsecond, little-endian, snaplen 262144: what most tools write.
    pub fn new(linktype: u32) -> Self {
        PcapOptions {
            linktype,
            nanos: false,
            endian: Endian::Little,
            snaplen: 262_144,
        }
    }
}

/// Writes a classic pcap file (one link type, no interfaces).
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
    opts: PcapOptions,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte global header.
    pub fn new(inner: W, opts: PcapOptions) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 16, inner);
        let e = opts.endian;
        let magic: u32 = if opts.nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        out.write_all(&e.u32(magic))?;
        out.write_all(&e.u16(2))?;
        out.write_all(&e.u16(4))?;
        out.write_all(&e.u32(0))?; // thiszone
        out.write_all(&e.u32(0))?; // sigfigs
        out.write_all(&e.u32(opts.snaplen))?;
        out.write_all(&e.u32(opts.linktype))?;
        Ok(PcapWriter { out, opts })
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

impl<W: Write> CaptureWriter for PcapWriter<W> {
    fn write_packet(
        &mut self,
        _iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let e = self.opts.endian;
        let secs = ts_ns.div_euclid(1_000_000_000);
        let frac = ts_ns.rem_euclid(1_000_000_000);
        let frac = if self.opts.nanos { frac } else { frac / 1000 };
        let incl = (data.len() as u32).min(self.opts.snaplen);
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&e.u32(secs as u32));
        hdr[4..8].copy_from_slice(&e.u32(frac as u32));
        hdr[8..12].copy_from_slice(&e.u32(incl));
        hdr[12..16].copy_from_slice(&e.u32(orig_len.max(incl)));
        self.out.write_all(&hdr)?;
        self.out.write_all(&data[..incl as usize])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One pcapng interface (an IDB).
#[derive(Clone, Copy, Debug)]
pub struct PcapngInterface {
    pub linktype: u16,
    pub snaplen: u32,
    /// `if_tsresol` as written: high bit clear = 10^-n s, set = 2^-n s.
    /// 6 (µs) is the pcapng default and is then not written.
    pub tsresol: u8,
    /// `if_tsoffset` in seconds, added by readers to every timestamp.
    pub tsoffset: Option<i64>,
}

impl PcapngInterface {
    /// Microsecond resolution, no offset.
    pub fn new(linktype: u16) -> Self {
        PcapngInterface {
            linktype,
            snaplen: 262_144,
            tsresol: 6,
            tsoffset: None,
        }
    }
}

/// Writes a pcapng file: one section, the given interfaces, EPBs (or SPBs).
pub struct PcapngWriter<W: Write> {
    out: BufWriter<W>,
    endian: Endian,
    ifaces: Vec<PcapngInterface>,
    /// Write the next packets on interface 0 as simple packet blocks.
    simple: bool,
}

/// Units per second of an `if_tsresol` value; `None` if it overflows u64.
fn ticks_per_second(tsresol: u8) -> Option<u64> {
    if tsresol & 0x80 != 0 {
        1u64.checked_shl(u32::from(tsresol & 0x7f))
    } else {
        10u64.checked_pow(u32::from(tsresol))
    }
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header block and one IDB per interface.
    pub fn new(inner: W, endian: Endian, ifaces: &[PcapngInterface]) -> io::Result<Self> {
        let mut w = PcapngWriter {
            out: BufWriter::with_capacity(1 << 16, inner),
            endian,
            ifaces: ifaces.to_vec(),
            simple: false,
        };
        w.write_shb()?;
        for i in 0..w.ifaces.len() {
            w.write_idb(i)?;
        }
        Ok(w)
    }

    /// From now on, packets on interface 0 are written as simple packet
    /// blocks (no timestamp, no interface id) while `on` holds.
    pub fn set_simple(&mut self, on: bool) {
        self.simple = on;
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }

    fn write_shb(&mut self) -> io::Result<()> {
        let e = self.endian;
        let opt_app = b"flowlint-gen";
        let opts_len = 4 + pad4(opt_app.len()) + 4;
        let total = (12 + 16 + opts_len) as u32;
        self.out.write_all(&e.u32(0x0a0d_0d0a))?;
        self.out.write_all(&e.u32(total))?;
        self.out.write_all(&e.u32(0x1a2b_3c4d))?;
        self.out.write_all(&e.u16(1))?;
        self.out.write_all(&e.u16(0))?;
        self.out.write_all(&e.u64(u64::MAX))?; // section length unknown
        self.write_option(4, opt_app)?; // shb_userappl
        self.out.write_all(&[0; 4])?; // opt_endofopt
        self.out.write_all(&e.u32(total))
    }

    fn write_idb(&mut self, i: usize) -> io::Result<()> {
        let e = self.endian;
        let ifc = self.ifaces[i];
        let mut opts_len = 0;
        if ifc.tsresol != 6 {
            opts_len += 4 + 4;
        }
        if ifc.tsoffset.is_some() {
            opts_len += 4 + 8;
        }
        if opts_len > 0 {
            opts_len += 4;
        }
        let total = (20 + opts_len) as u32;
        self.out.write_all(&e.u32(1))?;
        self.out.write_all(&e.u32(total))?;
        self.out.write_all(&e.u16(ifc.linktype))?;
        self.out.write_all(&e.u16(0))?;
        self.out.write_all(&e.u32(ifc.snaplen))?;
        if ifc.tsresol != 6 {
            self.write_option(9, &[ifc.tsresol])?;
        }
        if let Some(off) = ifc.tsoffset {
            self.write_option(14, &e.u64(off as u64))?;
        }
        if opts_len > 0 {
            self.out.write_all(&[0; 4])?;
        }
        self.out.write_all(&e.u32(total))
    }

    fn write_option(&mut self, code: u16, value: &[u8]) -> io::Result<()> {
        let e = self.endian;
        self.out.write_all(&e.u16(code))?;
        self.out.write_all(&e.u16(value.len() as u16))?;
        self.out.write_all(value)?;
        self.out
            .write_all(&[0; 3][..pad4(value.len()) - value.len()])
    }
}

/// `n` rounded up to a multiple of 4.
fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

impl<W: Write> CaptureWriter for PcapngWriter<W> {
    fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let e = self.endian;
        let ifc = *self.ifaces.get(iface as usize).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no pcapng interface {iface}"),
            )
        })?;
        let incl = data.len().min(ifc.snaplen as usize);
        let padded = pad4(incl);
        let orig = orig_len.max(incl as u32);
        if self.simple && iface == 0 {
            let total = (16 + padded) as u32;
            self.out.write_all(&e.u32(3))?;
            self.out.write_all(&e.u32(total))?;
            self.out.write_all(&e.u32(orig))?;
        } else {
            // Timestamps are stored relative to if_tsoffset, in if_tsresol units.
            let rel_ns = ts_ns - ifc.tsoffset.unwrap_or(0) * 1_000_000_000;
            let tps = ticks_per_second(ifc.tsresol).unwrap_or(1_000_000_000);
            let ticks = if tps == 1_000_000_000 {
                rel_ns as u64
            } else {
                (i128::from(rel_ns) * i128::from(tps)).div_euclid(1_000_000_000) as u64
            };
            let total = (32 + padded) as u32;
            let mut hdr = [0u8; 28];
            hdr[0..4].copy_from_slice(&e.u32(6));
            hdr[4..8].copy_from_slice(&e.u32(total));
            hdr[8..12].copy_from_slice(&e.u32(iface));
            hdr[12..16].copy_from_slice(&e.u32((ticks >> 32) as u32));
            hdr[16..20].copy_from_slice(&e.u32(ticks as u32));
            hdr[20..24].copy_from_slice(&e.u32(incl as u32));
            hdr[24..28].copy_from_slice(&e.u32(orig));
            self.out.write_all(&hdr)?;
        }
        self.out.write_all(&data[..incl])?;
        self.out.write_all(&[0; 3][..padded - incl])?;
        let total = if self.simple && iface == 0 {
            16 + padded
        } else {
            32 + padded
        } as u32;
        self.out.write_all(&e.u32(total))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Sends every packet to two writers, as two taps on the same link would
/// record it: `a` sees packets before `a_until_ns`, `b` those from
/// `b_from_ns` on, with its clock `b_offset_ns` ahead.
pub struct Tee<A, B> {
    pub a: A,
    pub b: B,
    pub a_until_ns: i64,
    pub b_from_ns: i64,
    pub b_offset_ns: i64,
}

impl<A: CaptureWriter, B: CaptureWriter> CaptureWriter for Tee<A, B> {
    fn write_packet(
        &mut self,
        iface: u32,
        ts_ns: i64,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        if ts_ns < self.a_until_ns {
            self.a.write_packet(iface, ts_ns, data, orig_len)?;
        }
        if ts_ns >= self.b_from_ns {
            self.b
                .write_packet(iface, ts_ns + self.b_offset_ns, data, orig_len)?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.a.flush()?;
        self.b.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_global_header_le_us() {
        let w = PcapWriter::new(Vec::new(), PcapOptions::new(1)).unwrap();
        let bytes = w.into_inner().unwrap();
        assert_eq!(
            bytes,
            [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]
        );
    }

    #[test]
    fn pcap_record_be_ns() {
        let opts = PcapOptions {
            linktype: 101,
            nanos: true,
            endian: Endian::Big,
            snaplen: 4,
        };
        let mut w = PcapWriter::new(Vec::new(), opts).unwrap();
        w.write_packet(0, 1_500_000_000_123_456_789, &[1, 2, 3, 4, 5, 6], 6)
            .unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(&b[0..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&b[16..24], &[0, 0, 0, 4, 0, 0, 0, 101]);
        let rec = &b[24..];
        assert_eq!(&rec[0..4], &1_500_000_000u32.to_be_bytes());
        assert_eq!(&rec[4..8], &123_456_789u32.to_be_bytes());
        assert_eq!(&rec[8..12], &4u32.to_be_bytes()); // truncated to snaplen
        assert_eq!(&rec[12..16], &6u32.to_be_bytes());
        assert_eq!(&rec[16..], &[1, 2, 3, 4]);
    }

    #[test]
    fn pcap_us_timestamp_truncates() {
        let mut w = PcapWriter::new(Vec::new(), PcapOptions::new(1)).unwrap();
        w.write_packet(0, 2_000_001_999, &[0xaa], 1).unwrap();
        let b = w.into_inner().unwrap();
        assert_eq!(
            &b[24..40],
            &[2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]
        );
    }

    #[test]
    fn pcapng_shb_idb_epb_bytes() {
        let mut ifc1 = PcapngInterface::new(276);
        ifc1.tsresol = 9;
        ifc1.tsoffset = Some(1);
        let mut w = PcapngWriter::new(Vec::new(), Endian::Little, &[PcapngInterface::new(1), ifc1])
            .unwrap();
        w.write_packet(1, 1_000_000_005, &[9, 8, 7, 6, 5], 5)
            .unwrap();
        let b = w.into_inner().unwrap();
        // SHB: type, length 48, BOM, version 1.0, section length -1,
        // shb_userappl "flowlint-gen" (12 bytes), end of options, length.
        assert_eq!(&b[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&b[4..8], &48u32.to_le_bytes());
        assert_eq!(&b[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
        assert_eq!(&b[12..16], &[1, 0, 0, 0]);
        assert_eq!(&b[16..24], &[0xff; 8]);
        assert_eq!(&b[24..28], &[4, 0, 12, 0]);
        assert_eq!(&b[28..40], b"flowlint-gen");
        assert_eq!(&b[40..44], &[0, 0, 0, 0]);
        assert_eq!(&b[44..48], &48u32.to_le_bytes());
        // IDB 0: no options.
        assert_eq!(
            &b[48..68],
            &[1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0]
        );
        // IDB 1: if_tsresol 9, if_tsoffset 1, end of options.
        let idb = &b[68..68 + 44];
        assert_eq!(
            &idb[0..16],
            &[1, 0, 0, 0, 44, 0, 0, 0, 0x14, 1, 0, 0, 0, 0, 4, 0]
        );
        assert_eq!(&idb[16..24], &[9, 0, 1, 0, 9, 0, 0, 0]);
        assert_eq!(&idb[24..36], &[14, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&idb[36..40], &[0, 0, 0, 0]);
        assert_eq!(&idb[40..44], &44u32.to_le_bytes());
        // EPB: 5 bytes of data padded to 8, ts relative to the offset, in ns.
        let epb = &b[112..];
        assert_eq!(epb.len(), 40);
        assert_eq!(&epb[0..12], &[6, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&epb[12..20], &[0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&epb[20..28], &[5, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&epb[28..36], &[9, 8, 7, 6, 5, 0, 0, 0]);
        assert_eq!(&epb[36..40], &40u32.to_le_bytes());
    }

    #[test]
    fn pcapng_spb_and_big_endian_epb() {
        let mut w =
            PcapngWriter::new(Vec::new(), Endian::Big, &[PcapngInterface::new(101)]).unwrap();
        w.set_simple(true);
        w.write_packet(0, 0, &[1, 2, 3], 3).unwrap();
        w.set_simple(false);
        w.write_packet(0, 4_294_967_296_000_001_000, &[1, 2, 3, 4], 4)
            .unwrap();
        let b = w.into_inner().unwrap();
        let spb = &b[48 + 20..48 + 20 + 20];
        assert_eq!(
            spb,
            &[0, 0, 0, 3, 0, 0, 0, 20, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 20]
        );
        let epb = &b[88..];
        // µs resolution: 4294967296000001 µs = 0x000f_4240_0000_0001.
        assert_eq!(&epb[12..20], &[0, 0x0f, 0x42, 0x40, 0, 0, 0, 1]);
        assert_eq!(epb.len(), 36);
    }

    #[test]
    fn tee_splits_and_offsets() {
        let a = PcapWriter::new(Vec::new(), PcapOptions::new(1)).unwrap();
        let b = PcapWriter::new(Vec::new(), PcapOptions::new(1)).unwrap();
        let mut t = Tee {
            a,
            b,
            a_until_ns: 10,
            b_from_ns: 5,
            b_offset_ns: 1000,
        };
        for ts in [0, 7, 12] {
            t.write_packet(0, ts, &[0], 1).unwrap();
        }
        let a = t.a.into_inner().unwrap();
        let b = t.b.into_inner().unwrap();
        assert_eq!(a.len(), 24 + 2 * 17);
        assert_eq!(b.len(), 24 + 2 * 17);
        assert_eq!(&b[24 + 4..24 + 8], &1u32.to_le_bytes()); // 7 ns + 1 µs → 1 µs
    }
}
