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
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            tod / 3600,
            tod % 3600 / 60,
            tod % 60
        )?;
        if frac != 0 {
            // Trailing zeros of the nine digits are dropped.
            let mut digits = 9;
            let mut value = frac;
            while value % 10 == 0 {
                value /= 10;
                digits -= 1;
            }
            write!(f, ".{value:0digits$}")?;
        }
        f.write_str("Z")
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
    }
}
