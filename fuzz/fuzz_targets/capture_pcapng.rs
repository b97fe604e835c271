//! pcapng reader: every block of any byte string that starts like a pcapng
//! file. Inputs that do not begin with the section header block type get it
//! (it reads the same in both byte orders), so no time is spent on the
//! "not a capture" path, which is one comparison.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 4 {
        bytes[..4].copy_from_slice(&SHB);
    }
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
});
