//! Times as the text report writes them: local time (as tcpdump prints
//! it) with the UTC offset said once, or UTC with `--utc`.

use chrono::{DateTime, FixedOffset, Local, Utc};

/// Local time (the `TZ` environment variable, else the system's zone) or UTC.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub utc: bool,
}

impl Clock {
    fn at(&self, ns: i64) -> DateTime<FixedOffset> {
        let t = DateTime::<Utc>::from_timestamp_nanos(ns);
        if self.utc {
            t.fixed_offset()
        } else {
            t.with_timezone(&Local).fixed_offset()
        }
    }

    /// "UTC", or the offset of local time at `ns`: "+0900".
    pub fn zone(&self, ns: i64) -> String {
        if self.utc {
            "UTC".to_string()
        } else {
            self.at(ns).format("%z").to_string()
        }
    }

    /// "2026-11-20 10:00:00.125".
    pub fn date_time(&self, ns: i64) -> String {
        self.at(ns).format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }

    /// "10:00:00.125", the date left out where it is `day_of`'s.
    pub fn time_ms(&self, ns: i64, day_of: i64) -> String {
        if self.same_day(ns, day_of) {
            self.at(ns).format("%H:%M:%S%.3f").to_string()
        } else {
            self.date_time(ns)
        }
    }

    /// "10:00:01", the date left out where it is `day_of`'s.
    pub fn time(&self, ns: i64, day_of: i64) -> String {
        let t = self.at(ns);
        if self.same_day(ns, day_of) {
            t.format("%H:%M:%S").to_string()
        } else {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        }
    }

    /// "10:00:01–10:00:09", or one time where both are the same second.
    pub fn span(&self, first: i64, last: i64, day_of: i64) -> String {
        let (a, b) = (self.time(first, day_of), self.time(last, day_of));
        if a == b {
            a
        } else {
            format!("{a}–{}", self.time(last, first))
        }
    }

    fn same_day(&self, a: i64, b: i64) -> bool {
        self.at(a).date_naive() == self.at(b).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_name_the_date_once() {
        let c = Clock { utc: true };
        let t0 = 1_763_632_800_000_000_000; // 2025-11-20T10:00:00Z
        assert_eq!(c.date_time(t0 + 125_000_000), "2025-11-20 10:00:00.125");
        assert_eq!(c.zone(t0), "UTC");
        assert_eq!(
            c.span(t0 + 1_000_000_000, t0 + 9_500_000_000, t0),
            "10:00:01–10:00:09"
        );
        assert_eq!(c.span(t0, t0 + 100, t0), "10:00:00");
        assert_eq!(c.time(t0 + 86_400_000_000_000, t0), "2025-11-21 10:00:00");
    }
}
