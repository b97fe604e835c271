//! pcapng: sections, interfaces and packet blocks.
//!
//! Owns: the block framing (type, total length, trailing length copy, padding),
//! section header blocks (byte order, version; every section starts its
//! interface list afresh), interface description blocks and the options that
//! matter for reading packets (`if_tsresol`, `if_tsoffset`, `if_fcslen`),
//! enhanced, simple and obsolete packet blocks, and resynchronising after a
//! block whose length cannot be right. Every other block type is skipped.

use super::source::{Endian, MAX_RECORD, SCAN_LIMIT, SCAN_LOOKAHEAD};
use super::{BlockDamage, ErrorKind, OptionsBlock, Pending, Shared, WarningKind};

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Block types a resynchronisation may land on: the ones in the pcapng
/// specification's registry (NRB, ISB, IRIG, ARINC, systemd journal, DSB,
/// custom) besides the ones read here.
const KNOWN_TYPES: [u32; 13] = [
    SHB,
    IDB,
    OPB,
    SPB,
    4,
    5,
    EPB,
    7,
    8,
    9,
    10,
    0x0000_0bad,
    0x4000_0bad,
];

/// Largest block accepted: one maximal record plus generous framing.
const MAX_BLOCK: usize = MAX_RECORD + (64 << 10);

/// Room allowed for the options of a packet block beyond its packet bytes.
const OPTIONS_SLACK: usize = 64 << 10;

/// Block type, total length, and the trailing length copy.
const FRAMING: usize = 12;

/// Option codes of an interface description block.
const IF_TSRESOL: u16 = 9;
const IF_FCSLEN: u16 = 13;
const IF_TSOFFSET: u16 = 14;

/// True if `m` (the first four file bytes) opens a section header block.
pub(super) fn is_magic(m: [u8; 4]) -> bool {
    u32::from_be_bytes(m) == SHB
}

/// Timestamp resolution of an interface: 10^-n or 2^-n seconds per tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsResol {
    Decimal(u8),
    Binary(u8),
}

impl TsResol {
    fn from_option(b: u8) -> TsResol {
        if b & 0x80 != 0 {
            TsResol::Binary(b & 0x7f)
        } else {
            TsResol::Decimal(b)
        }
    }
}

/// Converts a pcapng timestamp to nanoseconds since the epoch, saturating:
/// a 64-bit tick count at a fine resolution, or an offset, can exceed i64.
fn to_ns(ticks: u64, resol: TsResol, offset_s: i64) -> i64 {
    const NS: i128 = 1_000_000_000;
    let ticks = i128::from(ticks);
    let ns = match resol {
        TsResol::Decimal(n) if n <= 9 => ticks * 10i128.pow(9 - u32::from(n)),
        // Too fine to matter beyond this: every tick is less than 1 ns.
        TsResol::Decimal(n) => 10i128
            .checked_pow(u32::from(n) - 9)
            .map_or(0, |d| ticks / d),
        TsResol::Binary(n) => (ticks * NS).checked_shr(u32::from(n)).unwrap_or(0),
    };
    let total = ns.saturating_add(i128::from(offset_s) * NS);
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// An interface of the current section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    resol: TsResol,
    offset_s: i64,
    fcs_len: u8,
}

/// A view of a whole block: framing checked at construction, body in between.
struct Block<'a> {
    bytes: &'a [u8],
    endian: Endian,
}

impl<'a> Block<'a> {
    fn block_type(&self) -> u32 {
        self.endian.u32(self.bytes, 0)
    }

    /// The bytes between the length field and the trailing length copy.
    fn body(&self) -> &'a [u8] {
        let end = self.bytes.len().saturating_sub(4);
        self.bytes.get(8..end).unwrap_or(&[])
    }

    fn trailer(&self) -> u32 {
        self.endian
            .u32(self.bytes, self.bytes.len().saturating_sub(4))
    }
}

/// The fixed part of a section header block body.
struct SectionHeader {
    major: u16,
    minor: u16,
}

impl SectionHeader {
    /// Byte order from the magic at byte 8 of a block starting an SHB.
    fn byte_order(bytes: &[u8]) -> Option<Endian> {
        match Endian::Big.u32(bytes, 8) {
            BYTE_ORDER_MAGIC => Some(Endian::Big),
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => Some(Endian::Little),
            _ => None,
        }
    }

    /// Parses a body of at least 16 bytes; also whether its options are sound.
    fn parse(body: &[u8], e: Endian) -> Option<(SectionHeader, bool)> {
        let fixed = body.get(..16)?;
        let options_ok = options(body.get(16..).unwrap_or(&[]), e).is_some();
        Some((
            SectionHeader {
                major: e.u16(fixed, 4),
                minor: e.u16(fixed, 6),
            },
            options_ok,
        ))
    }
}

/// The options in `bytes`, or `None` if one runs past the end (then none of
/// them is trusted).
fn options(bytes: &[u8], e: Endian) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(head) = bytes.get(at..at + 4) {
        let code = e.u16(head, 0);
        let len = usize::from(e.u16(head, 2));
        if code == 0 {
            break; // opt_endofopt
        }
        let value = bytes.get(at + 4..at + 4 + len)?;
        out.push((code, value));
        at += 4 + len.next_multiple_of(4);
    }
    Some(out)
}

/// Parses an interface description block body; the flag says whether its
/// options were sound (if not, they are all ignored).
fn parse_interface(body: &[u8], e: Endian) -> Option<(Interface, bool)> {
    let fixed = body.get(..8)?;
    let mut iface = Interface {
        linktype: u32::from(e.u16(fixed, 0)),
        snaplen: e.u32(fixed, 4),
        resol: TsResol::Decimal(6),
        offset_s: 0,
        fcs_len: 0,
    };
    let Some(opts) = options(body.get(8..).unwrap_or(&[]), e) else {
        return Some((iface, false));
    };
    for (code, value) in opts {
        match (code, value) {
            (IF_TSRESOL, [b, ..]) => iface.resol = TsResol::from_option(*b),
            (IF_FCSLEN, [b, ..]) => iface.fcs_len = *b,
            (IF_TSOFFSET, v) if v.len() >= 8 => iface.offset_s = e.u64(v, 0) as i64,
            _ => {}
        }
    }
    Some((iface, true))
}

/// What one block amounts to once parsed.
enum Outcome {
    Packet(Pending),
    Skip,
    /// Damage that ends the reading (the warning is already given).
    Stop,
}

/// Reads the blocks of a pcapng file.
pub(super) struct PcapngParser {
    endian: Endian,
    interfaces: Vec<Interface>,
    /// Interface ids already warned about in this section.
    warned: Vec<u32>,
    /// Time of the last packet: a simple packet block has none of its own.
    last_ts: i64,
}

impl PcapngParser {
    /// Reads and checks the first section header block; an `Err` is
    /// (offset, message) of a file that cannot be read at all.
    pub(super) fn start(sh: &mut Shared) -> Result<PcapngParser, (u64, ErrorKind)> {
        let read_error = |sh: &Shared| {
            sh.src
                .error()
                .map(|(at, e)| (*at, ErrorKind::Read(e.clone())))
        };
        let have = sh.src.fill(FRAMING);
        if have < FRAMING {
            return Err(
                read_error(sh).unwrap_or((0, ErrorKind::SectionHeaderCut { have, need: 28 }))
            );
        }
        let head = sh.src.available();
        let Some(endian) = SectionHeader::byte_order(head) else {
            let magic = Endian::Big.u32(head, 8);
            return Err((8, ErrorKind::ByteOrderMagic { magic }));
        };
        let len = endian.u32(head, 4) as usize;
        if len < 28 || len % 4 != 0 || len > MAX_BLOCK {
            return Err((4, ErrorKind::SectionHeaderLength { len }));
        }
        let have = sh.src.fill(len);
        if have < len {
            return Err(
                read_error(sh).unwrap_or((0, ErrorKind::SectionHeaderCut { have, need: len }))
            );
        }
        let block = Block {
            bytes: sh.src.available().get(..len).unwrap_or(&[]),
            endian,
        };
        let trailer = block.trailer();
        let Some((shb, options_ok)) = SectionHeader::parse(block.body(), endian) else {
            return Err((4, ErrorKind::SectionHeaderLength { len }));
        };
        if shb.major != 1 {
            return Err((
                12,
                ErrorKind::PcapngVersion {
                    major: shb.major,
                    minor: shb.minor,
                },
            ));
        }
        if trailer as usize != len {
            sh.warn(
                0,
                WarningKind::LengthMismatch {
                    len,
                    trailer: trailer as usize,
                },
            );
        }
        if !options_ok {
            sh.warn(
                0,
                WarningKind::MalformedOptions(OptionsBlock::SectionHeader),
            );
        }
        sh.src.consume(len);
        Ok(PcapngParser {
            endian,
            interfaces: Vec::new(),
            warned: Vec::new(),
            last_ts: 0,
        })
    }

    /// The next packet, or `None` at the end of the data or where damage
    /// stops the reading (a warning says which). Other blocks are consumed
    /// on the way.
    pub(super) fn next_record(&mut self, sh: &mut Shared) -> Option<Pending> {
        loop {
            let offset = sh.src.offset();
            let have = sh.src.fill(8);
            if have == 0 {
                sh.ended();
                return None;
            }
            if have < 8 {
                sh.cut_short(offset, have, 8);
                return None;
            }
            let head = sh.src.available();
            let block_type_raw = Endian::Big.u32(head, 0);
            let mut endian = self.endian;
            if block_type_raw == SHB {
                let have = sh.src.fill(FRAMING);
                if have < FRAMING {
                    sh.cut_short(offset, have, FRAMING);
                    return None;
                }
                match SectionHeader::byte_order(sh.src.available()) {
                    Some(e) => endian = e,
                    None => {
                        if self.resync(sh, offset, BlockDamage::ByteOrderMagic) {
                            continue;
                        }
                        return None;
                    }
                }
            }
            let head = sh.src.available();
            let len = endian.u32(head, 4) as usize;
            if !(FRAMING..=MAX_BLOCK).contains(&len) {
                if self.resync(sh, offset, BlockDamage::InvalidLength { len }) {
                    continue;
                }
                return None;
            }
            if let Some(why) = self.oversized_packet_block(sh, endian, len) {
                if self.resync(sh, offset, why) {
                    continue;
                }
                return None;
            }
            // Some old writers (NTAR) store the unpadded length; the block
            // still occupies the padded size.
            let padded = len.next_multiple_of(4);
            let have = sh.src.fill(padded);
            if have < padded {
                if self.resync_quiet(sh).is_some() {
                    self.resync(sh, offset, BlockDamage::BeyondEnd { len, have });
                    continue;
                }
                sh.cut_short(offset, have, padded);
                return None;
            }
            let block = Block {
                bytes: sh.src.available().get(..padded).unwrap_or(&[]),
                endian,
            };
            let block_type = block.block_type();
            let trailer = block.trailer() as usize;
            if trailer != len {
                if len != padded || !KNOWN_TYPES.contains(&block_type) {
                    let why = BlockDamage::LengthMismatch { len, trailer };
                    if self.resync(sh, offset, why) {
                        continue;
                    }
                    return None;
                }
                sh.warn(offset, WarningKind::LengthMismatch { len, trailer });
            } else if len != padded {
                sh.warn(offset, WarningKind::UnpaddedLength { len, padded });
            }
            let outcome = match block_type {
                SHB => self.section(sh, offset, padded, endian),
                IDB => self.interface(sh, offset, padded),
                EPB | OPB | SPB => self.packet(sh, offset, padded, block_type),
                _ => Outcome::Skip,
            };
            match outcome {
                Outcome::Packet(p) => return Some(p),
                Outcome::Skip => sh.src.consume(padded),
                Outcome::Stop => return None,
            }
        }
    }

    /// A packet block whose length is far beyond what its captured length
    /// and some options need has a damaged length: reading it would swallow
    /// the blocks after it (and buffer up to `MAX_BLOCK` bytes).
    fn oversized_packet_block(
        &self,
        sh: &mut Shared,
        endian: Endian,
        len: usize,
    ) -> Option<BlockDamage> {
        let head = sh.src.available();
        let block_type = endian.u32(head, 0);
        if (block_type != EPB && block_type != OPB) || len <= OPTIONS_SLACK {
            return None;
        }
        sh.src.fill(28);
        let caplen = endian.u32(sh.src.available(), 20) as usize;
        let needed = 32 + caplen.next_multiple_of(4);
        (len > needed.saturating_add(OPTIONS_SLACK))
            .then_some(BlockDamage::OversizedPacket { len, caplen })
    }

    /// A later section header block: new byte order, interfaces start afresh.
    fn section(&mut self, sh: &mut Shared, offset: u64, len: usize, endian: Endian) -> Outcome {
        let block = Block {
            bytes: sh.src.available().get(..len).unwrap_or(&[]),
            endian,
        };
        let Some((shb, options_ok)) = SectionHeader::parse(block.body(), endian) else {
            sh.warn(offset, WarningKind::SectionHeaderTooShort { len });
            return Outcome::Skip;
        };
        if shb.major != 1 {
            sh.warn(
                offset,
                WarningKind::SectionVersion {
                    major: shb.major,
                    minor: shb.minor,
                },
            );
            return Outcome::Stop;
        }
        if !options_ok {
            sh.warn(
                offset,
                WarningKind::MalformedOptions(OptionsBlock::SectionHeader),
            );
        }
        self.endian = endian;
        self.interfaces.clear();
        self.warned.clear();
        Outcome::Skip
    }

    fn interface(&mut self, sh: &mut Shared, offset: u64, len: usize) -> Outcome {
        let block = Block {
            bytes: sh.src.available().get(..len).unwrap_or(&[]),
            endian: self.endian,
        };
        match parse_interface(block.body(), self.endian) {
            Some((iface, options_ok)) => {
                self.interfaces.push(iface);
                sh.add_linktype(iface.linktype);
                if !options_ok {
                    sh.warn(
                        offset,
                        WarningKind::MalformedOptions(OptionsBlock::InterfaceDescription),
                    );
                }
            }
            None => sh.warn(offset, WarningKind::InterfaceTooShort { len }),
        }
        Outcome::Skip
    }

    /// The interface a packet names, warning (once per id) if there is none.
    fn lookup(&mut self, sh: &mut Shared, offset: u64, id: u32) -> Option<Interface> {
        if let Some(iface) = usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
        {
            return Some(*iface);
        }
        if !self.warned.contains(&id) {
            self.warned.push(id);
            let kind = if self.interfaces.is_empty() {
                WarningKind::PacketBeforeInterface
            } else {
                WarningKind::UnknownInterface {
                    id,
                    declared: self.interfaces.len(),
                }
            };
            sh.warn(offset, kind);
        }
        None
    }

    fn packet(&mut self, sh: &mut Shared, offset: u64, len: usize, block_type: u32) -> Outcome {
        let e = self.endian;
        let block = Block {
            bytes: sh.src.available().get(..len).unwrap_or(&[]),
            endian: e,
        };
        let body = block.body();
        let short = |sh: &mut Shared| {
            sh.warn(offset, WarningKind::PacketBlockTooShort { len });
            Outcome::Skip
        };
        if block_type == SPB {
            let Some(fixed) = body.get(..4) else {
                return short(sh);
            };
            let orig_len = e.u32(fixed, 0);
            let room = body.len() - 4;
            let Some(iface) = self.lookup(sh, offset, 0) else {
                return Outcome::Skip;
            };
            let mut caplen = (orig_len as usize).min(room);
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen as usize);
            }
            return Outcome::Packet(Pending {
                ts_ns: self.last_ts,
                linktype: iface.linktype,
                data_at: 12,
                data_len: caplen,
                orig_len,
                record_len: len,
                fcs_len: iface.fcs_len,
            });
        }
        let Some(fixed) = body.get(..20) else {
            return short(sh);
        };
        let id = if block_type == OPB {
            u32::from(e.u16(fixed, 0))
        } else {
            e.u32(fixed, 0)
        };
        let ticks = (u64::from(e.u32(fixed, 4)) << 32) | u64::from(e.u32(fixed, 8));
        let caplen = e.u32(fixed, 12);
        let orig_len = e.u32(fixed, 16);
        if caplen as usize > body.len() - 20 {
            sh.warn(
                offset,
                WarningKind::PacketCaplen {
                    caplen,
                    holds: body.len() - 20,
                },
            );
            return Outcome::Skip;
        }
        let Some(iface) = self.lookup(sh, offset, id) else {
            return Outcome::Skip;
        };
        let ts_ns = to_ns(ticks, iface.resol, iface.offset_s);
        self.last_ts = ts_ns;
        Outcome::Packet(Pending {
            ts_ns,
            linktype: iface.linktype,
            data_at: 28,
            data_len: caplen as usize,
            orig_len,
            record_len: len,
            fcs_len: iface.fcs_len,
        })
    }

    /// Could a block start at `at` in `data`? Its type must be known and its
    /// length sane and repeated at its end.
    fn plausible_block(&self, data: &[u8], at: usize) -> bool {
        let Some(head) = data.get(at..at + FRAMING) else {
            return false;
        };
        let e = if Endian::Big.u32(head, 0) == SHB {
            match SectionHeader::byte_order(head) {
                Some(e) => e,
                None => return false,
            }
        } else {
            self.endian
        };
        let block_type = e.u32(head, 0);
        let len = e.u32(head, 4) as usize;
        let min = match block_type {
            SHB => 28,
            IDB => 20,
            SPB => 16,
            EPB | OPB => 32,
            t if KNOWN_TYPES.contains(&t) => FRAMING,
            _ => return false,
        };
        len >= min
            && len % 4 == 0
            && len <= MAX_BLOCK
            && data
                .get(at + len - 4..at + len)
                .is_some_and(|t| e.u32(t, 0) as usize == len)
    }

    /// Offset (from the current position, at least 1) of the next plausible
    /// block within the scan window.
    fn resync_quiet(&self, sh: &mut Shared) -> Option<usize> {
        sh.src.fill(SCAN_LIMIT + SCAN_LOOKAHEAD);
        let data = sh.src.available();
        (1..=SCAN_LIMIT.min(data.len())).find(|&at| self.plausible_block(data, at))
    }

    /// The block at `offset` (the current position) is damaged (`why`): skip
    /// to the next plausible block within `SCAN_LIMIT` bytes. True if found.
    fn resync(&mut self, sh: &mut Shared, offset: u64, why: BlockDamage) -> bool {
        match self.resync_quiet(sh) {
            Some(at) => {
                sh.warn(
                    offset,
                    WarningKind::BlockSkipped {
                        why,
                        skipped: at,
                        next: offset + at as u64,
                    },
                );
                sh.src.consume(at);
                true
            }
            None => {
                let scanned = sh.src.available().len().min(SCAN_LIMIT);
                sh.warn(offset, WarningKind::BlockStopped { why, scanned });
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CaptureError, CaptureReader, Format};
    use super::*;

    /// Builds a pcapng file block by block in one byte order (which a new
    /// section may change).
    struct Ng {
        e: Endian,
        out: Vec<u8>,
    }

    fn bytes16(e: Endian, v: u16) -> [u8; 2] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn bytes32(e: Endian, v: u32) -> [u8; 4] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn pad(v: &mut Vec<u8>) {
        while v.len() % 4 != 0 {
            v.push(0);
        }
    }

    impl Ng {
        fn new(e: Endian) -> Ng {
            let mut ng = Ng { e, out: Vec::new() };
            ng.shb(e, 1, 0, &[]);
            ng
        }

        /// One option (code, value), padded.
        fn opt(&self, code: u16, value: &[u8]) -> Vec<u8> {
            let mut v = Vec::new();
            v.extend(bytes16(self.e, code));
            v.extend(bytes16(self.e, value.len() as u16));
            v.extend(value);
            pad(&mut v);
            v
        }

        fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Ng {
            let len = (12 + body.len()) as u32;
            self.out.extend(bytes32(self.e, block_type));
            self.out.extend(bytes32(self.e, len));
            self.out.extend(body);
            self.out.extend(bytes32(self.e, len));
            self
        }

        fn shb(&mut self, e: Endian, major: u16, minor: u16, options: &[u8]) -> &mut Ng {
            self.e = e;
            let mut body = Vec::new();
            body.extend(bytes32(e, BYTE_ORDER_MAGIC));
            body.extend(bytes16(e, major));
            body.extend(bytes16(e, minor));
            body.extend([0xff; 8]); // section length unknown
            body.extend(options);
            self.block(SHB, &body)
        }

        fn idb(&mut self, linktype: u16, snaplen: u32, options: &[(u16, &[u8])]) -> &mut Ng {
            let mut body = Vec::new();
            body.extend(bytes16(self.e, linktype));
            body.extend([0, 0]);
            body.extend(bytes32(self.e, snaplen));
            for (code, value) in options {
                body.extend(self.opt(*code, value));
            }
            if !options.is_empty() {
                body.extend(self.opt(0, &[]));
            }
            self.block(IDB, &body)
        }

        fn epb(&mut self, iface: u32, ticks: u64, data: &[u8], orig: u32) -> &mut Ng {
            let mut body = Vec::new();
            body.extend(bytes32(self.e, iface));
            body.extend(bytes32(self.e, (ticks >> 32) as u32));
            body.extend(bytes32(self.e, ticks as u32));
            body.extend(bytes32(self.e, data.len() as u32));
            body.extend(bytes32(self.e, orig));
            body.extend(data);
            pad(&mut body);
            self.block(EPB, &body)
        }

        fn opb(&mut self, iface: u16, ticks: u64, data: &[u8], orig: u32) -> &mut Ng {
            let mut body = Vec::new();
            body.extend(bytes16(self.e, iface));
            body.extend(bytes16(self.e, 0)); // drops
            body.extend(bytes32(self.e, (ticks >> 32) as u32));
            body.extend(bytes32(self.e, ticks as u32));
            body.extend(bytes32(self.e, data.len() as u32));
            body.extend(bytes32(self.e, orig));
            body.extend(data);
            pad(&mut body);
            self.block(OPB, &body)
        }

        fn spb(&mut self, orig: u32, data: &[u8]) -> &mut Ng {
            let mut body = Vec::new();
            body.extend(bytes32(self.e, orig));
            body.extend(data);
            pad(&mut body);
            self.block(SPB, &body)
        }

        fn open(&self) -> Result<CaptureReader, CaptureError> {
            CaptureReader::from_read(Box::new(std::io::Cursor::new(self.out.clone())), "t.pcapng")
        }
    }

    /// (ts_ns, linktype, data, orig_len, offset, fcs_len) of every record.
    use crate::capture::test_util::{read_all, texts, warn};

    #[test]
    fn sections_of_both_byte_orders() {
        let mut ng = Ng::new(Endian::Little); // SHB: 28 bytes
        ng.idb(1, 0, &[]); // 20 bytes at 28
        ng.epb(0, 1_000_000, &[1, 2, 3], 3); // 36 bytes at 48
        ng.shb(Endian::Big, 1, 0, &[]); // at 84
        ng.idb(101, 0, &[]); // at 112
        ng.epb(0, 2_000_000, &[4, 5, 6, 7], 9); // at 132
        let mut r = ng.open().expect("open");
        assert_eq!(r.format(), Format::PCAPNG);
        assert_eq!(
            read_all(&mut r),
            vec![
                (1_000_000_000, 1, vec![1, 2, 3], 3, 48, 0),
                (2_000_000_000, 101, vec![4, 5, 6, 7], 9, 132, 0),
            ]
        );
        assert_eq!(r.linktypes(), &[1, 101]);
        assert!(r.warnings().is_empty());
        assert_eq!(r.position(), 168);
    }

    #[test]
    fn interfaces_with_their_own_resolution_offset_and_fcs() {
        let mut ng = Ng::new(Endian::Big);
        ng.idb(1, 65535, &[(IF_TSRESOL, &[6])]);
        ng.idb(113, 65535, &[(IF_TSRESOL, &[9]), (IF_FCSLEN, &[4])]);
        ng.idb(1, 65535, &[(IF_TSRESOL, &[0x88])]); // 2^-8 s
        let offset = (-100i64 as u64).to_be_bytes();
        ng.idb(228, 65535, &[(IF_TSOFFSET, &offset), (IF_TSRESOL, &[3])]);
        ng.epb(0, 1_500_000_000_123_456, &[1], 1);
        ng.epb(1, 1_500_000_000_123_456_789, &[2], 1);
        ng.epb(2, (1_500_000_000 << 8) + 3, &[3], 1);
        ng.epb(3, 1_500_000_000_123, &[4], 1);
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u32, u8)> = read_all(&mut r).iter().map(|x| (x.0, x.1, x.5)).collect();
        assert_eq!(
            rows,
            vec![
                (1_500_000_000_123_456_000, 1, 0),
                (1_500_000_000_123_456_789, 113, 4),
                (1_500_000_000_011_718_750, 1, 0),
                (1_499_999_900_123_000_000, 228, 0),
            ]
        );
        assert_eq!(r.linktypes(), &[1, 113, 228]);
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn simple_packet_blocks_take_the_previous_time() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 4, &[]); // snaplen 4 limits what an SPB holds
        ng.spb(3, &[9, 9, 9]); // before any timestamp: 0
        ng.epb(0, 7_000_000, &[1], 1);
        ng.spb(60, &[1, 2, 3, 4, 5, 6]); // 6 bytes present, snaplen 4
        ng.spb(2, &[7, 8]); // orig_len shorter than the padded body
        let mut r = ng.open().expect("open");
        assert_eq!(
            read_all(&mut r),
            vec![
                (0, 1, vec![9, 9, 9], 3, 48, 0),
                (7_000_000_000, 1, vec![1], 1, 68, 0),
                (7_000_000_000, 1, vec![1, 2, 3, 4], 60, 104, 0),
                (7_000_000_000, 1, vec![7, 8], 2, 128, 0),
            ]
        );
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn obsolete_packet_blocks_and_unknown_blocks() {
        let mut ng = Ng::new(Endian::Little);
        ng.block(0x0000_0bad, &[1, 2, 3, 4, 5, 6, 7, 8]); // custom: 20 bytes at 28
        ng.idb(101, 0, &[]); // at 48
        ng.block(0x1234_5678, &[0; 4]); // unknown: 16 bytes at 68
        ng.block(5, &[0; 16]); // ISB: 28 bytes at 84
        ng.opb(0, 3_000_001, &[0x45, 0], 40); // at 112
        let mut r = ng.open().expect("open");
        assert_eq!(
            read_all(&mut r),
            vec![(3_000_001_000, 101, vec![0x45, 0], 40, 112, 0)]
        );
        assert!(r.warnings().is_empty());
    }

    #[test]
    fn peek_consumes_only_non_packet_blocks() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.block(4, &[0; 8]); // NRB: 20 bytes at 48
        ng.epb(0, 5, &[1], 1); // at 68
        ng.epb(0, 6, &[2], 1); // at 104
        let mut r = ng.open().expect("open");
        assert_eq!(r.position(), 28);
        assert_eq!(r.peek_ts(), Some(5_000));
        assert_eq!(r.position(), 68);
        assert_eq!(r.peek_ts(), Some(5_000));
        assert_eq!(
            r.next_packet().map(|p| (p.ts_ns, p.offset)),
            Some((5_000, 68))
        );
        assert_eq!(r.position(), 104);
        assert_eq!(
            r.next_packet().map(|p| (p.ts_ns, p.offset)),
            Some((6_000, 104))
        );
        assert_eq!(r.peek_ts(), None);
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn cut_short_inside_a_block() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 8], 8); // 40 bytes at 48
        ng.epb(0, 2, &[2; 8], 8); // at 88
        ng.out.truncate(88 + 30);
        let mut r = ng.open().expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(
            texts(r.warnings()),
            &[warn(88, "file ends inside a record (30 of 40 bytes)")]
        );
        ng.out.truncate(88 + 5);
        let mut r = ng.open().expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(
            texts(r.warnings()),
            &[warn(88, "file ends inside a record (5 of 8 bytes)")]
        );
    }

    #[test]
    fn absurd_block_length_resynchronises() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 4], 4); // 36 bytes at 48
                                  // A block claiming 0xFFFFFFF0 bytes, then junk: 84..112.
        ng.out.extend(6u32.to_le_bytes());
        ng.out.extend(0xffff_fff0u32.to_le_bytes());
        ng.out.extend([0x77; 20]);
        ng.epb(0, 2, &[2; 4], 4); // at 112
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u64)> = read_all(&mut r).iter().map(|x| (x.0, x.4)).collect();
        assert_eq!(rows, vec![(1_000, 48), (2_000, 112)]);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                84,
                "block has an invalid length 4294967280; \
                 skipped 28 bytes to the next plausible block at byte 112"
            )]
        );
    }

    #[test]
    fn overlong_block_length_is_damage_not_truncation_when_blocks_follow() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 4], 4); // at 48
        ng.out[52..56].copy_from_slice(&4000u32.to_le_bytes());
        ng.epb(0, 2, &[2; 4], 4); // at 84
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u64)> = read_all(&mut r).iter().map(|x| (x.0, x.4)).collect();
        assert_eq!(rows, vec![(2_000, 84)]);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                48,
                "block claims 4000 bytes but the file ends 72 bytes in; \
                 skipped 36 bytes to the next plausible block at byte 84"
            )]
        );
    }

    #[test]
    fn packet_block_length_far_beyond_its_packet_is_damage() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 4], 4); // 36 bytes at 48
        ng.out[52..56].copy_from_slice(&(1u32 << 20).to_le_bytes());
        ng.epb(0, 2, &[2; 4], 4); // at 84
        ng.out.extend(vec![0; 2 << 20]);
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u64)> = read_all(&mut r).iter().map(|x| (x.0, x.4)).collect();
        assert_eq!(rows, vec![(2_000, 84)]);
        assert_eq!(
            texts(r.warnings())[0],
            warn(
                48,
                "packet block claims 1048576 bytes for 4 captured bytes; \
                 skipped 36 bytes to the next plausible block at byte 84"
            )
        );
    }

    #[test]
    fn trailer_mismatch_on_a_known_block_is_a_warning() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 4], 4); // 36 bytes at 48
        ng.out[80..84].copy_from_slice(&99u32.to_le_bytes());
        ng.epb(0, 2, &[2; 4], 4);
        let mut r = ng.open().expect("open");
        assert_eq!(read_all(&mut r).len(), 2);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                48,
                "block length 36 does not match its trailing copy 99"
            )]
        );
    }

    #[test]
    fn packets_without_their_interface_are_skipped_with_one_warning_per_id() {
        let mut ng = Ng::new(Endian::Little);
        ng.epb(0, 1, &[1], 1); // at 28, before any IDB
        ng.idb(1, 0, &[]); // at 64
        ng.epb(5, 2, &[2], 1); // at 84
        ng.epb(5, 3, &[3], 1); // at 120
        ng.epb(0, 4, &[4], 1); // at 156
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u64)> = read_all(&mut r).iter().map(|x| (x.0, x.4)).collect();
        assert_eq!(rows, vec![(4_000, 156)]);
        assert_eq!(
            texts(r.warnings()),
            &[
                warn(
                    28,
                    "packet before any interface description block in its section: skipped"
                ),
                warn(
                    84,
                    "packet names interface 5, but the section declares 1: skipped"
                ),
            ]
        );
    }

    #[test]
    fn each_section_starts_its_interfaces_afresh() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.idb(0, 0, &[]);
        ng.shb(Endian::Little, 1, 0, &[]); // at 68
        ng.idb(113, 0, &[]);
        ng.epb(1, 1, &[1], 1); // at 116: interface 1 is gone
        ng.epb(0, 2, &[2], 1);
        let mut r = ng.open().expect("open");
        let rows: Vec<(i64, u32)> = read_all(&mut r).iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(rows, vec![(2_000, 113)]);
        assert_eq!(r.linktypes(), &[1, 0, 113]);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                116,
                "packet names interface 1, but the section declares 1: skipped"
            )]
        );
    }

    #[test]
    fn later_section_with_unknown_version_stops() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1], 1);
        ng.shb(Endian::Big, 2, 0, &[]); // at 84
        ng.idb(1, 0, &[]);
        ng.epb(0, 2, &[2], 1);
        let mut r = ng.open().expect("open");
        assert_eq!(read_all(&mut r).len(), 1);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                84,
                "section with unsupported pcapng version 2.0: reading stopped"
            )]
        );
    }

    #[test]
    fn header_errors() {
        let mut ng = Ng {
            e: Endian::Little,
            out: Vec::new(),
        };
        ng.shb(Endian::Little, 0, 1, &[]);
        let e = ng.open().err().expect("error");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (12, "unsupported pcapng version 0.1")
        );

        let mut ng = Ng::new(Endian::Big);
        ng.out[8..12].copy_from_slice(&[1, 2, 3, 4]);
        let e = ng.open().err().expect("error");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (
                8,
                "pcapng section header has an unknown byte-order magic 0x01020304"
            )
        );

        let ng = Ng::new(Endian::Little);
        let e =
            CaptureReader::from_read(Box::new(std::io::Cursor::new(ng.out[..20].to_vec())), "t")
                .err()
                .expect("error");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (
                0,
                "file ends inside the section header block (20 of 28 bytes)"
            )
        );

        let mut ng = Ng::new(Endian::Little);
        ng.out[4..8].copy_from_slice(&30u32.to_le_bytes());
        let e = ng.open().err().expect("error");
        assert_eq!(
            (e.offset, e.kind.to_string().as_str()),
            (4, "pcapng section header block has an invalid length 30")
        );

        // A minor version other than 0 is read.
        let mut ng = Ng {
            e: Endian::Little,
            out: Vec::new(),
        };
        ng.shb(Endian::Little, 1, 1, &[]);
        assert!(ng.open().is_ok());
    }

    #[test]
    fn malformed_options_are_ignored_but_the_block_kept() {
        let mut ng = Ng {
            e: Endian::Little,
            out: Vec::new(),
        };
        // An SHB option claiming 200 bytes.
        ng.shb(Endian::Little, 1, 0, &[1, 0, 200, 0, b'x', b'y', 0, 0]);
        let mut body = Vec::new();
        body.extend(1u16.to_le_bytes());
        body.extend([0, 0]);
        body.extend(0u32.to_le_bytes());
        body.extend(ng.opt(IF_TSRESOL, &[9])); // would make ticks nanoseconds...
        body.extend([2, 0, 99, 0]); // ...but this if_name overruns the block
        ng.block(IDB, &body); // at 36
        ng.epb(0, 5, &[1], 1);
        let mut r = ng.open().expect("open");
        assert_eq!(
            read_all(&mut r).iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![5_000]
        );
        assert_eq!(
            texts(r.warnings()),
            &[
                warn(
                    0,
                    "malformed options in section header block: options ignored"
                ),
                warn(
                    36,
                    "malformed options in interface description block: options ignored"
                ),
            ]
        );
    }

    #[test]
    fn packet_longer_than_its_block_is_skipped() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1; 4], 4); // at 48
        ng.out[48 + 20..48 + 24].copy_from_slice(&500u32.to_le_bytes());
        ng.epb(0, 2, &[2; 4], 4);
        let mut r = ng.open().expect("open");
        assert_eq!(
            read_all(&mut r).iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![2_000]
        );
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                48,
                "packet block claims 500 captured bytes but holds 4: skipped"
            )]
        );
    }

    #[test]
    fn unpadded_block_length_of_old_writers() {
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, &[1, 2, 3], 3); // 36 bytes at 48, claims 35
        ng.out[52..56].copy_from_slice(&35u32.to_le_bytes());
        ng.out[80..84].copy_from_slice(&35u32.to_le_bytes());
        ng.epb(0, 2, &[4], 1);
        let mut r = ng.open().expect("open");
        assert_eq!(read_all(&mut r).len(), 2);
        assert_eq!(
            texts(r.warnings()),
            &[warn(
                48,
                "block length 35 is not a multiple of 4 (read as 36)"
            )]
        );
    }

    #[test]
    fn timestamp_conversion_saturates() {
        assert_eq!(to_ns(u64::MAX, TsResol::Decimal(0), 0), i64::MAX);
        assert_eq!(to_ns(u64::MAX, TsResol::Decimal(9), 0), i64::MAX);
        assert_eq!(to_ns(1, TsResol::Decimal(0), i64::MIN), i64::MIN);
        assert_eq!(to_ns(1, TsResol::Decimal(0), i64::MAX), i64::MAX);
        assert_eq!(to_ns(123_456, TsResol::Decimal(12), 0), 123);
        assert_eq!(to_ns(u64::MAX, TsResol::Decimal(127), 0), 0);
        assert_eq!(to_ns(3, TsResol::Binary(1), 0), 1_500_000_000);
        assert_eq!(to_ns(u64::MAX, TsResol::Binary(127), 0), 0);
        assert_eq!(to_ns(u64::MAX, TsResol::Binary(0), 0), i64::MAX);
        // 2107-01-01 with microsecond ticks: needs more than 32-bit seconds.
        assert_eq!(
            to_ns(4_323_283_200_000_000, TsResol::Decimal(6), 0),
            4_323_283_200_000_000_000
        );
    }

    #[test]
    fn hostile_bytes_never_panic() {
        // Every truncation and a sweep of single-byte corruptions of a small
        // valid file: reading must end, without panic.
        let mut ng = Ng::new(Endian::Little);
        ng.idb(1, 0, &[(IF_TSRESOL, &[9])]);
        ng.epb(0, 1, &[1; 5], 5);
        ng.spb(4, &[1; 4]);
        ng.opb(0, 1, &[2; 3], 3);
        ng.block(0xbad, &[0; 4]);
        let good = ng.out.clone();
        for cut in 0..good.len() {
            if let Ok(mut r) =
                CaptureReader::from_read(Box::new(std::io::Cursor::new(good[..cut].to_vec())), "t")
            {
                while r.next_packet().is_some() {}
            }
        }
        for at in 0..good.len() {
            for v in [0x00, 0x01, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[at] = v;
                if let Ok(mut r) =
                    CaptureReader::from_read(Box::new(std::io::Cursor::new(bad)), "t")
                {
                    let mut n = 0;
                    while r.next_packet().is_some() {
                        n += 1;
                        assert!(n < 100);
                    }
                }
            }
        }
    }
}
