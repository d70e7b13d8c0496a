//! The `Date:` header read as RFC 5322 section 3.3 writes it, obsolete forms of 4.3
//! included, where mail-parser 0.11 reads some of them wrong or not at all: comments and
//! folding white space inside the time (`09(comment):   55  :  06`), a two-digit year
//! (`95`), no seconds, a named zone (`CST`), a day written with a leading zero too many
//! (`029 Apr`); and two forms outside the grammar that mail software writes and
//! Python's email reads: no zone (taken as -0000), and `April 03, 2002 5:56 AM`.

use chrono::{FixedOffset, NaiveDate, SecondsFormat, TimeZone};

/// The date in RFC 3339 (UTC as `Z`), or None when it is not a date at all.
pub fn rfc5322(raw: &str) -> Option<String> {
    let text = without_comments(raw)?;
    let text = tight_colons(&text.replace(',', " "));
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words
        .first()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
    {
        words.remove(0);
    }
    let meridiem = twelve_hour(&mut words);
    if words.len() > 1 && month_number(words[0]).is_some() && digits(words[1], 1, 2).is_some() {
        // `April 03, 2002`: the month first, as American mail software writes it.
        words.swap(0, 1);
    }
    let (day, month, year, time, zone) = match words[..] {
        [day, month, year, time, zone] => (day, month, year, time, zone),
        // No zone: RFC 5322 3.3's -0000, "no information about the local time zone".
        [day, month, year, time] => (day, month, year, time, "-0000"),
        _ => return None,
    };
    let day: u32 = digits(day, 1, 3)?.parse().ok()?;
    let month = month_number(month)?;
    let year = full_year(digits(year, 2, 4)?)?;
    let (mut hour, minute, second) = clock(time)?;
    if let Some(pm) = meridiem {
        hour = match (hour, pm) {
            (1..=11, true) => hour + 12,
            (12, false) => 0,
            (1..=12, _) => hour,
            _ => return None,
        };
    }
    let offset = FixedOffset::east_opt(zone_seconds(zone)?)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let local = date.and_hms_opt(hour, minute, second)?;
    let at = offset.from_local_datetime(&local).single()?;
    Some(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Takes `AM` or `PM` after the time out of the words: Some(true) for PM.
fn twelve_hour(words: &mut Vec<&str>) -> Option<bool> {
    let at = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm"))
        .filter(|&i| i > 0 && words[i - 1].contains(':'))?;
    Some(words.remove(at).eq_ignore_ascii_case("pm"))
}

/// The text without its comments (nested, with quoted pairs); None when one is open.
fn without_comments(raw: &str) -> Option<String> {
    let (mut out, mut depth, mut escaped) = (String::new(), 0usize, false);
    for c in raw.chars() {
        match (depth, c) {
            (_, _) if escaped => escaped = false,
            (1.., '\\') => escaped = true,
            (_, '(') => {
                depth += 1;
                out.push(' ');
            }
            (1.., ')') => depth -= 1,
            (0, c) => out.push(c),
            _ => {}
        }
    }
    (depth == 0).then_some(out)
}

/// `09 :  55 : 06` as `09:55:06`.
fn tight_colons(text: &str) -> String {
    let mut out = String::new();
    for piece in text.split(':') {
        if !out.is_empty() {
            out = out.trim_end().to_string();
            out.push(':');
            out.push_str(piece.trim_start());
        } else {
            out.push_str(piece);
        }
    }
    out
}

fn digits(word: &str, min: usize, max: usize) -> Option<&str> {
    let ok = (min..=max).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(word)
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let lower = word.to_ascii_lowercase();
    let i = MONTHS
        .iter()
        .position(|m| lower == *m)
        .or_else(|| FULL.iter().position(|m| lower == *m))?;
    u32::try_from(i + 1).ok()
}

/// RFC 5322 4.3: a two-digit year below 50 is 20xx, else 19xx; three digits add 1900.
fn full_year(text: &str) -> Option<i32> {
    let n: i32 = text.parse().ok()?;
    Some(match text.len() {
        2 if n < 50 => 2000 + n,
        2 | 3 => 1900 + n,
        _ => n,
    })
}

fn clock(text: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |p: &str| digits(p, 1, 2).and_then(|d| d.parse().ok());
    match parts[..] {
        [h, m] => Some((number(h)?, number(m)?, 0)),
        [h, m, s] => Some((number(h)?, number(m)?, number(s)?)),
        _ => None,
    }
}

/// The zone's offset east of UTC in seconds: `+hhmm`, or a name RFC 5322 4.3 keeps
/// (military letters count as +0000, as it says to).
fn zone_seconds(zone: &str) -> Option<i32> {
    if let Some(sign) = zone.strip_prefix(['+', '-']).map(|_| &zone[..1]) {
        let n: i32 = digits(&zone[1..], 4, 4)?.parse().ok()?;
        let seconds = (n / 100) * 3600 + (n % 100) * 60;
        return Some(if sign == "-" { -seconds } else { seconds });
    }
    let hours = match zone.to_ascii_uppercase().as_str() {
        "UT" | "GMT" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        z if z.len() == 1 && z.chars().all(|c| c.is_ascii_alphabetic()) => 0,
        _ => return None,
    };
    Some(hours * 3600)
}

#[cfg(test)]
mod tests {
    use super::rfc5322;

    #[test]
    fn reads_the_modern_and_the_obsolete_forms() {
        let cases = [
            (
                "Mon, 30 Nov 2026 09:15:00 +0800",
                "2026-11-30T09:15:00+08:00",
            ),
            ("Wed, 20 Dec 95 19:59 CST", "1995-12-20T19:59:00-06:00"),
            ("Tue, 029 Apr 2019 10:00:00 +0000", "2019-04-29T10:00:00Z"),
            (
                "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)",
                "1969-02-13T23:32:00-03:30",
            ),
            (
                "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600",
                "1997-11-21T09:55:06-06:00",
            ),
            ("21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06Z"),
            ("Wed, 3 May 2006 00:09:22", "2006-05-03T00:09:22Z"),
            ("Wednesday, April 03, 2002 5:56 AM", "2002-04-03T05:56:00Z"),
            (
                "Wednesday, April 03, 2002 12:30 PM -0500",
                "2002-04-03T12:30:00-05:00",
            ),
            ("3 March 2002 12:05 AM", "2002-03-03T00:05:00Z"),
        ];
        for (raw, want) in cases {
            assert_eq!(rfc5322(raw).as_deref(), Some(want), "{raw}");
        }
        for bad in [
            "",
            "yesterday",
            "Mon, 31 Feb 2026 10:00:00 +0000",
            "30 Nov 2026 25:00 +0000",
            "3 May 2006 13:00 PM",
            "3 May 2006",
        ] {
            assert_eq!(rfc5322(bad), None, "{bad}");
        }
    }
}
