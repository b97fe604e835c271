//! `services` files: `/etc/services` and Windows
//! `%SystemRoot%\System32\drivers\etc\services`.
//!
//! Syntax (both systems): `name port/protocol [alias...] [# comment]`,
//! separated by spaces or tabs. Only tcp and udp entries matter to flowlint;
//! entries of other protocols (ddp, sctp, dccp…) are skipped, not rejected,
//! because real files contain them.

use super::{parse_transport, CatalogError, ErrorKind, ServiceEntry, Services};

/// Decodes the bytes of a services file. Windows files are usually in the
/// system's ANSI code page (Shift_JIS on Japanese Windows), where only the
/// comments carry non-ASCII text, so lossy UTF-8 keeps every entry intact;
/// a UTF-16 file (Notepad's "Unicode") is decoded properly.
pub(super) fn decode(bytes: &[u8]) -> String {
    let utf16 = |le: bool, body: &[u8]| -> String {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

pub(super) fn parse(text: &str, file: &str) -> Result<Services, CatalogError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let err = |line: usize, kind: ErrorKind| CatalogError {
        file: file.to_string(),
        line: Some(line),
        kind: Box::new(kind),
    };
    let mut entries = Vec::new();
    // `lines()` also strips the '\r' of CRLF line endings.
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("");
        let mut fields = content.split_whitespace();
        let Some(name) = fields.next() else {
            continue;
        };
        let Some(port_proto) = fields.next() else {
            return Err(err(
                line,
                ErrorKind::ServiceWithoutPort {
                    name: name.to_string(),
                },
            ));
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            return Err(err(
                line,
                ErrorKind::ServiceWithoutProtocol {
                    name: name.to_string(),
                    field: port_proto.to_string(),
                },
            ));
        };
        let port: u16 = match port.parse::<u16>() {
            Ok(p) if p >= 1 => p,
            _ => {
                return Err(err(
                    line,
                    ErrorKind::ServicePort {
                        name: name.to_string(),
                        port: port.to_string(),
                    },
                ))
            }
        };
        if proto.is_empty() {
            return Err(err(
                line,
                ErrorKind::ServiceWithoutProtocol {
                    name: name.to_string(),
                    field: port_proto.to_string(),
                },
            ));
        }
        let Some(protocol) = parse_transport(proto) else {
            // Another protocol: a valid line that is of no interest here.
            continue;
        };
        let mut names = vec![name.to_lowercase()];
        for alias in fields {
            let alias = alias.to_lowercase();
            if !names.contains(&alias) {
                names.push(alias);
            }
        }
        entries.push(ServiceEntry {
            names,
            port,
            protocol,
            line,
        });
    }
    Ok(Services { entries })
}
