//! Packet decoding for every link type flowlint knows (and one it does not):
//! the first byte picks the link type, the next two the wire length's excess
//! over the captured length, the rest is the record. ICMP errors quoting
//! headers (and ICMP errors quoting ICMP errors) are reached through IP;
//! tunnels (GRE, PPTP, ERSPAN, VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE
//! over UDP, PBB) through IP and Ethernet, nested at most
//! `MAX_TUNNEL_DEPTH` deep.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// 0 NULL, 1 Ethernet, 9 PPP, 12/14/101 raw IP, 50 PPP in HDLC framing,
/// 104 Cisco HDLC, 105 802.11, 108 LOOP, 113 SLL, 127 radiotap, 228 IPv4,
/// 229 IPv6, 239 NFLOG, 276 SLL2, 147 (a user link type flowlint does not
/// decode).
const LINKTYPES: [u32; 17] = [
    0, 1, 9, 12, 14, 50, 101, 104, 105, 108, 113, 127, 228, 229, 239, 276, 147,
];

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
    let mut tunnels = flowlint::decode::Tunnels::NONE;
    let decoded = flowlint::decode::decode_with(linktype, rest, 7, wire_len, &mut tunnels);
    // The plain entry point gives the same answer.
    assert_eq!(decoded, flowlint::decode::decode(linktype, rest, 7, wire_len));
    if let Ok(meta) = decoded {
        // The decoder reports what the headers say, never beyond the wire.
        std::hint::black_box(meta);
    }
    std::hint::black_box(tunnels);
});
