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

/// A message's date (RFC 3339, in the sender's offset) in the local time zone (`TZ`
/// honoured), for people: the time of today's messages, the date of older ones, so that
/// rows sort by what the reader's clock said.
pub fn short_local(rfc3339: &str) -> String {
    short_local_at(rfc3339, chrono::Local::now())
}

fn short_local_at(rfc3339: &str, now: chrono::DateTime<chrono::Local>) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            let t = t.with_timezone(&chrono::Local);
            match t.date_naive() == now.date_naive() {
                true => t.format("%H:%M").to_string(),
                false => t.format("%Y-%m-%d").to_string(),
            }
        }
        Err(_) => rfc3339.to_string(),
    }
}

/// A message's date in the local time zone with its offset, for `read`:
/// `2026-12-01 20:51 +0100`.
pub fn long_local(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M %z")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// Now, for an outgoing `Date:` header: local time with the local offset (RFC 5322).
pub fn rfc5322_now() -> String {
    chrono::Local::now().to_rfc2822()
}

/// Today in the local time zone (a digest's `{date}`).
pub fn today_local() -> Day {
    local_days_ago(0)
}

/// The local day `days` days before today (`since:7d` in a search); the earliest
/// day chrono knows when that is further back than it goes.
pub fn local_days_ago(days: u32) -> Day {
    let today = chrono::Local::now().date_naive();
    let day = today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(chrono::NaiveDate::MIN);
    use chrono::Datelike;
    Day {
        year: u32::try_from(day.year()).unwrap_or(1),
        month: u8::try_from(day.month()).unwrap_or(1),
        day: u8::try_from(day.day()).unwrap_or(1),
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
    fn todays_messages_show_the_time_older_ones_the_date() {
        let now = chrono::Local::now();
        let today = now.to_rfc3339();
        assert_eq!(short_local_at(&today, now), now.format("%H:%M").to_string());
        let older = (now - chrono::Duration::days(3)).to_rfc3339();
        let shown = short_local_at(&older, now);
        assert_eq!(shown.len(), 10, "{shown}");
        assert!(shown.starts_with("20"), "{shown}");
        assert_eq!(short_local_at("not a date", now), "not a date");
    }

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
