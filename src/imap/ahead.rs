//! The mailbox a command works in, opened in the same write as the login (RFC 3501
//! 5.5: a client may send the next command without waiting): `LOGIN`, `ID` where the
//! greeting offered it, and `EXAMINE` or `SELECT` leave together, and the mailbox's
//! state is read when the command asks for it. One round trip less for `list`, `read`
//! and `digest`.
//!
//! Only where the server's capabilities on the login's connection are known (listed by
//! its greeting, or by the last session over implicit TLS: then the greeting is not
//! waited for either), and only with LOGIN: an AUTHENTICATE's continuation would take
//! the pipelined lines for its answer. Where `list` knows how many messages the
//! mailbox had, the FETCH of the newest goes in the same write too, from that count on
//! (`FETCH n:*`), and only the envelopes the real count calls for are kept.

use super::fetched::Fetched;
use super::mailbox_state::Access;
use super::tap::{Seen, Shared};
use super::uids::Query;
use super::utf7::encode as encode_mailbox_name;
use crate::date::Day;
use crate::mailbox::MailboxName;

/// What an earlier session with the server leaves to go on: with both, `list` is one
/// round trip after the TLS handshake.
#[derive(Debug, Default, Clone)]
pub struct Expected {
    /// The capabilities the server listed after the last login.
    pub capabilities: Option<Vec<String>>,
    /// For `list`: the position to fetch the newest envelopes from (the count the
    /// mailbox had, less the limit).
    pub newest_from: Option<u32>,
    /// For `search`, `fetch` and `digest`: the UID SEARCH criteria to send with the
    /// login (ASCII only, see `Session::criteria_ahead`); the first search of the same
    /// criteria takes its answer.
    pub search: Option<String>,
    /// For `fetch`, with `search`: the UID from which the new messages themselves are
    /// fetched in the login's write, up to the highest UID there can be (not `*`,
    /// which names the last message even when it is older), so that nothing comes
    /// when nothing is new.
    pub bodies_from: Option<u32>,
}

impl Expected {
    /// With the UID SEARCH for messages above `after` (see [`Query::new_after`]) in
    /// the login's write, for `fetch` and `digest`, which ask it first.
    pub fn with_new_after(mut self, after: u32, since: Option<Day>) -> Expected {
        self.search = Some(Query::new_after(after, since).to_string());
        self
    }
}

/// The tag of the pipelined EXAMINE or SELECT; the tap keeps its refusal apart.
pub(super) const TAG: &str = "E1";
/// The tag of the pipelined FETCH of the newest envelopes.
pub(super) const FETCH_TAG: &str = "F1";
/// The tag of the pipelined UID SEARCH.
pub(super) const SEARCH_TAG: &str = "S1";
/// The tag of the pipelined UID FETCH of bodies.
pub(super) const BODIES_TAG: &str = "B1";

/// A mailbox asked for in the login's write, whose replies are still to be read.
#[derive(Debug)]
pub struct Pending {
    pub(super) mailbox: MailboxName,
    pub(super) access: Access,
    /// Whether ID went in the same write.
    pub id_sent: bool,
    /// The position the pipelined FETCH of envelopes starts at, if one went too.
    pub(super) newest_from: Option<u32>,
    /// The criteria of the pipelined UID SEARCH, if one went too.
    pub(super) search: Option<String>,
    /// Where the pipelined UID FETCH of bodies starts, if one went too.
    pub(super) bodies_from: Option<u32>,
}

impl Pending {
    /// Has the tap send ID (when `caps` offer it) and the mailbox's EXAMINE or SELECT
    /// right after the login. None where the name cannot go on a command line as a
    /// quoted string.
    pub fn send_after_login(
        seen: &Shared,
        caps: &[String],
        mailbox: &MailboxName,
        access: Access,
        expected: &Expected,
    ) -> Option<Pending> {
        let newest_from = expected.newest_from;
        let raw = encode_mailbox_name(mailbox.as_str());
        if !raw.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return None;
        }
        let quoted = raw.replace('\\', "\\\\").replace('"', "\\\"");
        let id_sent = caps.iter().any(|c| c.eq_ignore_ascii_case("ID"));
        let mut lines = String::new();
        if id_sent {
            lines.push_str(&id_command());
        }
        let verb = match access {
            Access::ReadOnly => "EXAMINE",
            Access::ReadWrite => "SELECT",
        };
        lines.push_str(&format!("{TAG} {verb} \"{quoted}\"\r\n"));
        if let Some(from) = newest_from {
            let items = ENVELOPES;
            lines.push_str(&format!("{FETCH_TAG} FETCH {}:* {items}\r\n", from.max(1)));
        }
        let search = expected.search.clone().filter(|c| is_one_line(c));
        if let Some(criteria) = &search {
            lines.push_str(&format!("{SEARCH_TAG} UID SEARCH {criteria}\r\n"));
        }
        let bodies_from = expected.bodies_from.filter(|_| search.is_some());
        if let Some(from) = bodies_from {
            let items = FIRST_PIECES;
            lines.push_str(&format!(
                "{BODIES_TAG} UID FETCH {from}:{} {items}\r\n",
                u32::MAX
            ));
        }
        Seen::follow_next_command(seen, lines.as_bytes());
        Some(Pending {
            mailbox: mailbox.clone(),
            access,
            id_sent,
            newest_from,
            search,
            bodies_from,
        })
    }

    /// Whether this is the mailbox, opened as asked.
    pub fn is(&self, mailbox: &MailboxName, access: Access) -> bool {
        self.mailbox == *mailbox && self.access == access
    }
}

/// The replies to the UID SEARCH and the UID FETCH of bodies sent with the login. A
/// server may run the two at once (RFC 3501 5.5; Dovecot does), so their responses
/// interleave: the SEARCH's answer may come after messages, its tagged reply after
/// the last of them.
#[derive(Debug, Default)]
pub(super) struct Interleaved {
    /// The SEARCH's answer, once its untagged response came.
    pub found: Option<Vec<u32>>,
    /// The SEARCH's tagged reply came; its text if it was a refusal.
    pub search_ended: bool,
    pub search_refused: Option<String>,
    /// Messages that came before the SEARCH's answer (at most [`EARLY_BYTES`] of them),
    /// and the UIDs of those beyond, which are to be fetched again.
    pub early: std::collections::VecDeque<Fetched>,
    early_bytes: usize,
    pub dropped: Vec<u32>,
    /// The FETCH's tagged reply, once it came.
    pub bodies_end: Option<Ahead>,
}

/// What of the messages that come before the SEARCH's answer is kept.
const EARLY_BYTES: usize = 16 << 20;

impl Interleaved {
    /// Keeps a message that came before the SEARCH's answer, or notes it for a second
    /// FETCH where keeping it would pass [`EARLY_BYTES`].
    pub fn keep_early(&mut self, fetched: Fetched) {
        let size = fetched.body().map_or(0, <[u8]>::len);
        if self.early_bytes + size <= EARLY_BYTES {
            self.early_bytes += size;
            self.early.push_back(fetched);
        } else if let Some(uid) = fetched.uid() {
            self.dropped.push(uid);
        }
    }
}

/// What the UID FETCH of bodies sent with the login gives next.
#[derive(Debug)]
pub enum Ahead {
    Message(Fetched),
    /// Its tagged OK: every message it had came (but those it had to leave for a
    /// second FETCH, see [`Session::bodies_dropped`](super::Session::bodies_dropped)).
    Done,
    /// Its refusal (a server that takes no UID up to 4294967295, say): the messages
    /// are to be fetched the ordinary way.
    Refused(String),
}

/// Printable ASCII: what can go on a command line as it is (no literal).
pub(super) fn is_one_line(text: &str) -> bool {
    text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// What `fetch` downloads: each message whole, up to its first `PIECE`, left unread.
pub(super) const FIRST_PIECES: &str = "(UID FLAGS RFC822.SIZE BODY.PEEK[]<0.8388608>)";

/// What `list` shows of a message: the header fields an envelope is made of (those
/// that must occur once included, to tell when one is repeated), flags, size and
/// structure. Only those fields, not the whole header section with its Received and
/// signature lines: a server keeps them in its cache (Dovecot does, once asked for),
/// and a list of 50 is a few KB instead of tens.
pub(super) const ENVELOPES: &str = "(UID FLAGS RFC822.SIZE BODYSTRUCTURE \
    BODY.PEEK[HEADER.FIELDS (DATE FROM SENDER REPLY-TO TO CC SUBJECT MESSAGE-ID)])";

/// ID (RFC 2971) under a tag of its own, whose replies async-imap passes over.
pub(super) fn id_command() -> String {
    format!(
        "I1 ID (\"name\" \"mailer\" \"version\" \"{}\")\r\n",
        env!("CARGO_PKG_VERSION")
    )
}
