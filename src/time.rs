//! Times as reports write them: RFC 3339 in UTC.
//!
//! Owns: turning nanoseconds since the Unix epoch into text, with no
//! allocation when written through [`Rfc3339`]'s `Display`.

use std::fmt;

/// A time (ns since the epoch) that displays as RFC 3339 UTC with the
/// fraction trimmed: `2026-11-20T10:00:09.5Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub i64);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let secs = ns.div_euclid(1_000_000_000);
        let frac = ns.rem_euclid(1_000_000_000);
        let days = secs.div_euclid(86_400);
        let tod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            // Never for a nanosecond clock (years 1677 to 2262); kept general.
            write!(
                f,
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                tod / 3600,
                tod % 3600 / 60,
                tod % 60
            )?;
            if frac != 0 {
                let f9 = format!("{frac:09}");
                write!(f, ".{}", f9.trim_end_matches('0'))?;
            }
            return f.write_str("Z");
        }
        // Reports write two times per conversation: digits by hand, one write.
        let mut buf = *b"0000-00-00T00:00:00.000000000Z";
        let put = |buf: &mut [u8; 30], at: usize, width: usize, mut value: u64| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(&mut buf, 0, 4, y as u64);
        put(&mut buf, 5, 2, u64::from(m));
        put(&mut buf, 8, 2, u64::from(d));
        put(&mut buf, 11, 2, (tod / 3600) as u64);
        put(&mut buf, 14, 2, (tod % 3600 / 60) as u64);
        put(&mut buf, 17, 2, (tod % 60) as u64);
        let end = if frac == 0 {
            19
        } else {
            put(&mut buf, 20, 9, frac as u64);
            // Trailing zeros of the nine digits are dropped.
            let mut end = 29;
            while buf[end - 1] == b'0' {
                end -= 1;
            }
            end
        };
        buf[end] = b'Z';
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(&buf[..=end]).map_err(|_| fmt::Error)?)
    }
}

/// RFC 3339 UTC text of a time (see [`Rfc3339`]).
pub fn rfc3339(ns: i64) -> String {
    Rfc3339(ns).to_string()
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_trims_the_fraction() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_763_632_809_500_000_000), "2025-11-20T10:00:09.5Z");
        assert_eq!(rfc3339(1_000_000_001), "1970-01-01T00:00:01.000000001Z");
        assert_eq!(rfc3339(1_120_000_000), "1970-01-01T00:00:01.12Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(rfc3339(951_782_400 * 1_000_000_000), "2000-02-29T00:00:00Z");
        // The whole range of the nanosecond clock.
        assert_eq!(rfc3339(i64::MAX), "2262-04-11T23:47:16.854775807Z");
        assert_eq!(rfc3339(i64::MIN), "1677-09-21T00:12:43.145224192Z");
    }
}
