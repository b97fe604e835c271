//! Compressed captures: any byte string behind a gzip, zstd or xz magic
//! (chosen by the first byte) goes through the decoder and the capture
//! reader; a corrupt stream must end as damage, never as a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGICS: [&[u8]; 3] = [
    &[0x1f, 0x8b],
    &[0x28, 0xb5, 0x2f, 0xfd],
    &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = MAGICS[usize::from(pick) % MAGICS.len()].to_vec();
    bytes.extend_from_slice(rest);
    let Ok(mut r) = flowlint::capture::CaptureReader::from_stream(
        Box::new(std::io::Cursor::new(bytes)),
        "fuzz",
    ) else {
        return;
    };
    let mut last = None;
    let mut records = 0u32;
    while let Some(p) = r.next_packet() {
        assert!(last < Some(p.offset), "record offsets must grow");
        last = Some(p.offset);
        records += 1;
        std::hint::black_box((p.ts_ns, p.data.len()));
        // A small input can decompress to a lot: stop early, the decoder is what is fuzzed.
        if records > 10_000 {
            break;
        }
    }
    let _ = r.warnings().len();
});
