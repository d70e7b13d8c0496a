//! UID sets and SEARCH queries, written the way IMAP spells them.

use std::fmt;

use crate::date::Day;

/// A set of UIDs in IMAP's compact form (`1:5,7,9:12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidSet(String);

impl UidSet {
    /// The set of `uids`, which must be sorted ascending.
    pub fn from_sorted(uids: &[u32]) -> UidSet {
        let mut out = String::new();
        let mut i = 0;
        while i < uids.len() {
            let start = uids[i];
            let mut end = start;
            while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
                i += 1;
                end = uids[i];
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == end {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}:{end}"));
            }
            i += 1;
        }
        UidSet(out)
    }

    /// Every UID from `uid` on (`uid:*`).
    pub fn from_range(uid: u32) -> UidSet {
        UidSet(format!("{uid}:*"))
    }

    /// One message.
    pub fn one(uid: u32) -> UidSet {
        UidSet(uid.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// UIDs as people write them: numbers and ranges (`4200:4250`), with commas or in
    /// separate words. The error says which word is wrong and how it should look.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<UidSet, String> {
        let mut parts = Vec::new();
        for word in words.into_iter().flat_map(|w| w.split(',')) {
            let uid = |t: &str| t.parse::<u32>().ok().filter(|&u| u > 0);
            let part = match word.split_once(':') {
                Some((a, b)) => uid(a)
                    .zip(uid(b))
                    .map(|(a, b)| format!("{}:{}", a.min(b), a.max(b))),
                None => uid(word).map(|u| u.to_string()),
            };
            match part {
                Some(p) => parts.push(p),
                None => {
                    return Err(format!(
                        "{word:?} is not a UID: give numbers `mailer list` shows, or ranges such as 4200:4250"
                    ));
                }
            }
        }
        match parts.is_empty() {
            true => Err("no UID given: give the numbers `mailer list` shows".to_string()),
            false => Ok(UidSet(parts.join(","))),
        }
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What `UID SEARCH` looks for: messages from a UID on, received since a day, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    from_uid: Option<u32>,
    since: Option<Day>,
}

impl Query {
    /// UIDs from `uid` on. (IMAP's `uid:*` also matches the last message when its UID
    /// is below `uid`; callers filter.)
    pub fn uids_from(uid: u32) -> Query {
        Query {
            from_uid: Some(uid),
            since: None,
        }
    }

    /// What [`Session::new_uids`](super::Session::new_uids) asks for: UIDs above
    /// `after`, received since `since` if given.
    pub fn new_after(after: u32, since: Option<Day>) -> Query {
        Query::uids_from(after.saturating_add(1)).and_since(since)
    }

    /// Messages received on or after `day`.
    pub fn since(day: Day) -> Query {
        Query {
            from_uid: None,
            since: Some(day),
        }
    }

    /// Adds a day bound when there is one.
    pub fn and_since(mut self, day: Option<Day>) -> Query {
        self.since = day.or(self.since);
        self
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut terms = Vec::new();
        if let Some(uid) = self.from_uid {
            terms.push(format!("UID {uid}:*"));
        }
        if let Some(day) = self.since {
            terms.push(format!("SINCE {}", day.imap()));
        }
        if terms.is_empty() {
            terms.push("ALL".to_string());
        }
        f.write_str(&terms.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(
            UidSet::from_sorted(&[1, 2, 3, 5, 7, 8]).as_str(),
            "1:3,5,7:8"
        );
        assert_eq!(UidSet::from_sorted(&[4]).as_str(), "4");
        assert!(UidSet::from_sorted(&[]).is_empty());
    }

    #[test]
    fn queries_read_as_imap() {
        let day = Day::parse_iso("2026-11-01");
        assert_eq!(
            UidSet::parse(["7", "4250:4200,9"]).unwrap().as_str(),
            "7,4200:4250,9"
        );
        for bad in ["0", "x", "3:", "1:*", "-2"] {
            let err = UidSet::parse([bad]).unwrap_err();
            assert!(err.contains(&format!("{bad:?} is not a UID")), "{err}");
        }
        assert!(UidSet::parse([]).is_err());
        assert_eq!(Query::uids_from(43).to_string(), "UID 43:*");
        assert_eq!(
            Query::uids_from(1).and_since(day).to_string(),
            "UID 1:* SINCE 1-Nov-2026"
        );
        assert_eq!(Query::default().to_string(), "ALL");
    }
}
