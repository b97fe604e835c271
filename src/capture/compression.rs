//! Compressed captures: gzip, zstd and xz are recognised by their magic
//! bytes (never by the file name) and decompressed while the capture is
//! read, with no temporary file.
//!
//! Owns: the magic numbers of the three formats and the choice of decoder.
//! A decoder's error (a corrupt or cut-short stream) reaches the capture
//! reader as a read error, which reports it as damage at the offset of the
//! decompressed bytes read so far, and the rest of the analysis goes on.

use std::io::{self, Read};

/// A compression format around a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    /// The format whose magic bytes `head` begins with.
    fn of(head: &[u8]) -> Option<Compression> {
        const GZIP: &[u8] = &[0x1f, 0x8b];
        const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
        const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
        if head.starts_with(GZIP) {
            Some(Compression::Gzip)
        } else if head.starts_with(ZSTD) {
            Some(Compression::Zstd)
        } else if head.starts_with(XZ) {
            Some(Compression::Xz)
        } else {
            None
        }
    }
}

type Source = Box<dyn Read + Send>;

/// Most memory the xz decoder may use. (zstd's decoder refuses windows
/// beyond 128 MiB by default; gzip needs 32 KiB.)
const XZ_MEMORY_LIMIT: u64 = 256 << 20;

/// Looks at the first bytes of `inner`: compressed data is wrapped in its
/// decoder, anything else is returned as it is (those bytes included).
pub(crate) fn wrap(mut inner: Source) -> io::Result<(Source, Option<Compression>)> {
    let mut head = [0u8; 6];
    let mut have = 0;
    while have < head.len() {
        match inner.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole: Source = Box::new(io::Cursor::new(head[..have].to_vec()).chain(inner));
    let compression = Compression::of(&head[..have]);
    let decoded: Source = match compression {
        None => whole,
        // Several gzip members one after the other are one stream (as `zcat`).
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Some(Compression::Zstd) => Box::new(zstd::stream::read::Decoder::new(whole)?),
        // Concatenated xz streams too; a hostile header must not make the
        // decoder allocate without bound (xz -9 needs 65 MiB).
        Some(Compression::Xz) => {
            let stream = liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMORY_LIMIT,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::read::XzDecoder::new_stream(whole, stream))
        }
    };
    Ok((decoded, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn unwrap_all(bytes: Vec<u8>) -> (Vec<u8>, Option<Compression>) {
        let (mut r, c) = wrap(Box::new(io::Cursor::new(bytes))).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, c)
    }

    const DATA: &[u8] = b"\xd4\xc3\xb2\xa1 not really a capture, but bytes to round-trip";

    #[test]
    fn plain_bytes_pass_through_whole() {
        assert_eq!(unwrap_all(DATA.to_vec()), (DATA.to_vec(), None));
        assert_eq!(unwrap_all(b"ab".to_vec()), (b"ab".to_vec(), None));
        assert_eq!(unwrap_all(Vec::new()), (Vec::new(), None));
    }

    #[test]
    fn gzip_zstd_and_xz_are_recognised_and_decoded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(DATA).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            unwrap_all(gz.clone()),
            (DATA.to_vec(), Some(Compression::Gzip))
        );
        // Two members, as `cat a.gz b.gz` makes.
        let mut two = gz.clone();
        two.extend_from_slice(&gz);
        assert_eq!(unwrap_all(two).0, [DATA, DATA].concat());

        let zst = zstd::encode_all(DATA, 1).unwrap();
        assert_eq!(unwrap_all(zst), (DATA.to_vec(), Some(Compression::Zstd)));

        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(DATA).unwrap();
        let xz = xz.finish().unwrap();
        assert_eq!(unwrap_all(xz), (DATA.to_vec(), Some(Compression::Xz)));
    }

    #[test]
    fn a_cut_short_stream_is_a_read_error_after_the_data_it_held() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&DATA.repeat(100)).unwrap();
        let gz = gz.finish().unwrap();
        let (mut r, _) = wrap(Box::new(io::Cursor::new(gz[..gz.len() / 2].to_vec()))).unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
    }
}
