//! Packet decoding for every link type flowlint knows (and one it does not):
//! the first byte picks the link type, the next two the wire length's excess
//! over the captured length, the rest is the record. ICMP errors quoting
//! headers (and ICMP errors quoting ICMP errors) are reached through IP.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// 0 NULL, 1 Ethernet, 12/14/101 raw IP, 108 LOOP, 113 SLL, 228 IPv4,
/// 229 IPv6, 276 SLL2, 147 (a user link type flowlint does not decode).
const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fuzz_target!(|data: &[u8]| {
    let [sel, a, b, rest @ ..] = data else {
        return;
    };
    let linktype = LINKTYPES[usize::from(*sel) % LINKTYPES.len()];
    let extra = u32::from(u16::from_le_bytes([*a, *b]));
    // Mostly whole packets, sometimes snapped ones with any wire length.
    let wire_len = if extra & 1 == 0 {
        rest.len() as u32
    } else {
        (rest.len() as u32).saturating_add(extra)
    };
    if let Ok(meta) = flowlint::decode::decode(linktype, rest, 7, wire_len) {
        // The decoder reports what the headers say, never beyond the wire.
        std::hint::black_box(meta);
    }
});
