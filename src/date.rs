//! Calendar days: what `--since` takes, what IMAP's SEARCH SINCE wants, and the date a
//! digest's subject shows. Parsed once where they enter mailer; nothing downstream
//! handles date strings.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A day of the Gregorian calendar (UTC where it comes from a clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    year: u32,
    month: u8,
    day: u8,
}

impl Day {
    /// `2026-11-01`; None for anything else, or a day that does not exist.
    pub fn parse_iso(text: &str) -> Option<Day> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 {
            return None;
        }
        let (year, month, day): (u32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in(year, month);
        valid.then_some(Day { year, month, day })
    }

    /// The day (UTC) of a Unix time.
    pub fn from_timestamp(timestamp: i64) -> Day {
        let d = mail_parser::DateTime::from_timestamp(timestamp);
        Day {
            year: u32::from(d.year),
            month: d.month.clamp(1, 12),
            day: d.day.max(1),
        }
    }

    /// Today (UTC).
    pub fn today() -> Day {
        Day::from_timestamp(unix_now())
    }

    /// IMAP's spelling, `1-Nov-2026` (RFC 3501 `date`).
    pub fn imap(&self) -> String {
        format!(
            "{}-{}-{}",
            self.day,
            MONTHS[usize::from(self.month) - 1],
            self.year
        )
    }
}

impl fmt::Display for Day {
    /// ISO 8601, `2026-11-01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in(year: u32, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_days_parse_and_print_for_imap() {
        let day = |s| Day::parse_iso(s).map(|d| d.imap());
        assert_eq!(day("2026-11-01").as_deref(), Some("1-Nov-2026"));
        assert_eq!(day("2024-02-29").as_deref(), Some("29-Feb-2024"));
        assert_eq!(day("2026-13-01"), None);
        assert_eq!(day("2026-02-31"), None);
        assert_eq!(day("yesterday"), None);
        assert_eq!(Day::from_timestamp(1_795_651_200).to_string(), "2026-11-26");
    }
}
