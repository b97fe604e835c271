//! Classic pcap reader: every record of any byte string that starts like a
//! pcap file. Inputs with another magic get a pcap magic (chosen by their
//! first byte: both byte orders, µs and ns) so no time is spent on the
//! "not a capture" path, which is one comparison.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 4 && !MAGICS.iter().any(|m| bytes[..4] == m[..]) {
        let m = MAGICS[usize::from(bytes[0]) % MAGICS.len()];
        bytes[..4].copy_from_slice(&m);
    }
    flowlint_fuzz_walk(bytes);
});

fn flowlint_fuzz_walk(bytes: Vec<u8>) {
    let Ok(mut r) =
        flowlint::capture::CaptureReader::from_read(Box::new(std::io::Cursor::new(bytes)), "fuzz")
    else {
        return;
    };
    let mut last = None;
    while let Some(p) = r.next_packet() {
        // Offsets only grow: a reader that goes back could loop forever.
        assert!(last < Some(p.offset), "record offsets must grow");
        last = Some(p.offset);
        std::hint::black_box((p.ts_ns, p.linktype, p.data.len(), p.orig_len));
    }
    let _ = (r.warnings().len(), r.linktypes().len(), r.position());
}
