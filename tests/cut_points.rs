//! The cut-point sweep: a connection cut at any point never loses or duplicates a
//! message. Each sweep measures an uncut session through a counting proxy, spreads cut
//! points over its bytes in both directions, runs the user's command through the proxy
//! cut at each, then runs it again straight to the server and checks what the user
//! would: every server message is in the Maildir exactly once, the server kept what it
//! should, and every outgoing message was delivered or is still queued.
//!
//! `MAILER_CUT_POINTS` sets the cut points per protocol (default 10); `bench/cut-sweep.sh`
//! runs the same sweeps with hundreds. With `--nocapture` each sweep prints its row of
//! the summary table.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;

use common::account::Port;
use common::fault::{Cut, CutProxy, Direction, Traffic};
use common::{Account, Run, Setup, Stack, stack};

/// Cut points per protocol: `MAILER_CUT_POINTS`, default 10.
fn points() -> usize {
    std::env::var("MAILER_CUT_POINTS")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().expect("MAILER_CUT_POINTS must be a number"))
        .unwrap_or(10)
}

// ---------------------------------------------------------------------------------------
// Where to cut.

/// Cut points over a measured session: half of them client->server, half
/// server->client. In each direction: the first byte, the byte before the last, the
/// ends of the reference's turns and one byte short of them (a command or reply just
/// complete, or its last TLS record one byte short), and the rest evenly over the whole
/// session (inside large messages). Deterministic for a given session.
fn plan(reference: &Traffic, points: usize) -> Vec<(Direction, u64)> {
    let mut out = Vec::new();
    for (direction, share) in [
        (Direction::ToServer, points.div_ceil(2)),
        (Direction::ToClient, points / 2),
    ] {
        let cuts = spread(
            reference.bytes(direction),
            &reference.turn_ends(direction),
            share,
        );
        out.extend(cuts.into_iter().map(|n| (direction, n)));
    }
    out
}

/// `k` distinct values in `1..total`, as [`plan`] describes.
fn spread(total: u64, turn_ends: &[u64], k: usize) -> Vec<u64> {
    let max = total.saturating_sub(1);
    if max == 0 || k == 0 {
        return Vec::new();
    }
    let k = k.min(max as usize);
    let mut chosen = BTreeSet::from([1, max]);
    let marks: Vec<u64> = turn_ends
        .iter()
        .flat_map(|&e| [e.saturating_sub(1), e])
        .filter(|n| (1..=max).contains(n))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Half of the rest at turn ends: all of them when there are few, else evenly
    // spaced among them, from the first (the TLS handshake) to the last.
    let want_marks = k.saturating_sub(2) / 2;
    if want_marks >= marks.len() {
        chosen.extend(&marks);
    } else if want_marks == 1 {
        chosen.insert(marks[0]);
    } else {
        for i in 0..want_marks {
            chosen.insert(marks[i * (marks.len() - 1) / (want_marks - 1)]);
        }
    }
    // The rest evenly spaced; denser grids fill any places taken already.
    let mut grid = k.saturating_sub(chosen.len()).max(1) as u64;
    while chosen.len() < k {
        for j in 0..grid {
            if chosen.len() >= k {
                break;
            }
            chosen.insert(1 + (max - 1) * (2 * j + 1) / (2 * grid));
        }
        grid *= 2;
    }
    chosen.into_iter().take(k).collect()
}

/// Where `n` bytes in `direction` end in the reference: "turn 7 of 31".
fn phase(reference: &Traffic, direction: Direction, n: u64) -> String {
    let mut seen = 0;
    for (i, &(d, len)) in reference.turns.iter().enumerate() {
        if d == direction {
            if n <= seen + len {
                return format!(
                    "byte {} of {len} in turn {} of {}",
                    n - seen,
                    i + 1,
                    reference.turns.len()
                );
            }
            seen += len;
        }
    }
    format!(
        "past the end of the reference's {} turns",
        reference.turns.len()
    )
}

/// The client->server byte counts at which each message's DATA ends (its final "."),
/// from an uncut SMTP session: the client's turns of at least `min` bytes after its
/// first (the TLS ClientHello). Commands are far shorter than the messages sent here.
fn data_ends(reference: &Traffic, messages: usize, min: u64) -> Vec<u64> {
    let mut total = 0;
    let mut ends = Vec::new();
    let client_turns = reference
        .turns
        .iter()
        .filter(|(d, _)| *d == Direction::ToServer);
    for (i, &(_, len)) in client_turns.enumerate() {
        total += len;
        if i > 0 && len >= min {
            ends.push(total);
        }
    }
    assert_eq!(
        ends.len(),
        messages,
        "expected one client turn of {min}+ bytes per message in the reference session: {:?}",
        reference.turns
    );
    ends
}

// ---------------------------------------------------------------------------------------
// What happened.

/// One cut: where, and what both runs said.
struct Case {
    direction: Direction,
    n: u64,
    phase: String,
    cut: String,
    rerun: String,
}

/// One protocol's sweep: the cases tried and what went wrong; a row of the summary.
struct Sweep {
    protocol: &'static str,
    reference: Traffic,
    cases: Vec<Case>,
    lost: usize,
    duplicated: usize,
    /// Duplicates where the server took the whole message and its reply was lost.
    lost_reply: usize,
    codes: BTreeMap<i32, usize>,
    problems: Vec<String>,
    /// The duplicates SMTP allows, one line each, to print with the summary.
    allowed: Vec<String>,
}

impl Sweep {
    fn new(protocol: &'static str, reference: Traffic) -> Sweep {
        Sweep {
            protocol,
            reference,
            cases: Vec::new(),
            lost: 0,
            duplicated: 0,
            lost_reply: 0,
            codes: BTreeMap::new(),
            problems: Vec::new(),
            allowed: Vec::new(),
        }
    }

    fn plan(&self) -> Vec<(Direction, u64)> {
        plan(&self.reference, points())
    }

    /// Records a case: the cut run must end in 0 or 75 (no crash, no other code), each
    /// rerun in 0. Returns the case's index for later findings.
    fn case(&mut self, direction: Direction, n: u64, cut: &Run, reruns: &[&Run]) -> usize {
        *self.codes.entry(cut.code()).or_default() += 1;
        let describe = |r: &Run| format!("exit {}: {}", r.code(), r.stderr().trim_end());
        self.cases.push(Case {
            direction,
            n,
            phase: phase(&self.reference, direction, n),
            cut: describe(cut),
            rerun: reruns
                .iter()
                .map(|r| describe(r))
                .collect::<Vec<_>>()
                .join(" / "),
        });
        let i = self.cases.len() - 1;
        if !matches!(cut.code(), 0 | 75) || cut.stderr().contains("panicked") {
            self.problem(i, format!("the cut run exited {}", cut.code()));
        }
        for rerun in reruns {
            if rerun.code() != 0 {
                self.problem(i, format!("the rerun exited {}", rerun.code()));
            }
        }
        i
    }

    fn problem(&mut self, case: usize, what: String) {
        let c = &self.cases[case];
        self.problems.push(format!(
            "{}: cut {} after {} bytes ({}): {what}\n    cut run: {}\n    rerun:   {}",
            self.protocol, c.direction, c.n, c.phase, c.cut, c.rerun
        ));
    }

    fn lost(&mut self, case: usize, what: String) {
        self.lost += 1;
        self.problem(case, format!("lost: {what}"));
    }

    /// A message stored or delivered more than once; allowed only in the lost-reply
    /// window, and then only twice.
    fn duplicated(&mut self, case: usize, what: String, copies: usize, lost_reply: bool) {
        self.duplicated += 1;
        if lost_reply && copies == 2 {
            self.lost_reply += 1;
            let c = &self.cases[case];
            self.allowed.push(format!(
                "cut-sweep: {}: cut {} after {} bytes ({}): {what} twice: the server took \
                 the whole DATA and the reply was lost\n    cut run: {}",
                self.protocol, c.direction, c.n, c.phase, c.cut
            ));
        } else {
            self.problem(case, format!("duplicated: {what} ({copies} copies)"));
        }
    }

    /// Prints the summary row and fails on any problem.
    fn finish(self) {
        let codes = self
            .codes
            .iter()
            .map(|(code, n)| format!("{code}x{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!(
            "cut-sweep: | protocol | cut points | lost | duplicated | of them, reply lost after DATA | exit codes of cut runs | problems |\n\
             cut-sweep: | {} | {} | {} | {} | {} | {} | {} |",
            self.protocol,
            self.cases.len(),
            self.lost,
            self.duplicated,
            self.lost_reply,
            codes,
            self.problems.len()
        );
        if !self.allowed.is_empty() {
            eprintln!("{}", self.allowed.join("\n"));
        }
        assert!(
            self.problems.is_empty(),
            "{} of {} cuts went wrong:\n{}",
            self.problems.len(),
            self.cases.len(),
            self.problems.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------
// Counting messages.

/// How many files of a Maildir folder (`new/` and `cur/`) carry each Message-ID.
fn message_ids(folder: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for file in common::message_files(folder) {
        let id = header(&file, "message-id").unwrap_or_else(|| {
            panic!(
                "a message without a Message-ID in {}: {}",
                folder.display(),
                String::from_utf8_lossy(&file[..file.len().min(300)])
            )
        });
        *out.entry(id).or_default() += 1;
    }
    out
}

/// The value of the first header `name` (lower case) of a message.
fn header(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    text.lines()
        .take_while(|l| !l.trim_end_matches('\r').is_empty())
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.eq_ignore_ascii_case(name)).then(|| value.trim().to_string())
        })
}

/// How many messages in `user`'s INBOX have each subject that starts with `prefix`.
fn subjects(stack: &Stack, user: &str, prefix: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for file in common::message_files(&stack.maildir(user)) {
        if let Some(subject) = header(&file, "subject").filter(|s| s.starts_with(prefix)) {
            *out.entry(subject).or_default() += 1;
        }
    }
    out
}

/// The Message-IDs of what waits in the setup's outbox, as `mailer queue list` says.
fn queued(setup: &Setup) -> Vec<String> {
    let run = setup.mailer(&["queue", "list", "--json"]).run();
    run.ok();
    let list: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["message_id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Fetch: IMAP and POP3.

/// The messages a fetch sweep reads: small ones around a large one (about 300 KB, so
/// that many cuts fall inside it), one with lines that start with a dot. The same bytes
/// every time, so every session has the same length.
fn fixture(tag: &str) -> Vec<Vec<u8>> {
    let line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    let bodies = [
        "Short one.\r\n".to_string(),
        line.repeat(4000),
        ".starts with a dot\r\n..two dots\r\n.\r\nend\r\n".to_string(),
        line.repeat(500),
        "Last one.\r\n".to_string(),
    ];
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            format!(
                "Message-ID: <cut-{tag}-{i}@example.test>\r\nFrom: Bob <bob@example.test>\r\n\
                 Subject: cut fixture {i}\r\n\r\n{body}"
            )
            .into_bytes()
        })
        .collect()
}

fn deliver_fixture(stack: &Stack, user: &str, mailbox: &str, tag: &str) {
    let messages = fixture(tag);
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    stack.deliver(user, mailbox, &refs);
}

fn imap_account(stack: &Stack, port: impl Port) -> Account {
    Account::new("alice").maildir().imap(stack, port)
}

const IMAP_MAILBOX: &str = "CutImap";

#[test]
fn imap_fetch_cut_anywhere_stores_each_message_once() {
    let stack = stack();
    deliver_fixture(stack, "alice", IMAP_MAILBOX, "imap");
    let server = message_ids(&stack.server_folder("alice", IMAP_MAILBOX));
    let target = stack.port("IMAPS_PORT");
    let fetch = ["fetch", "-m", IMAP_MAILBOX];

    let measure = CutProxy::pass(target);
    imap_account(stack, measure.port())
        .build()
        .mailer(&fetch)
        .ok();
    let mut sweep = Sweep::new("IMAP fetch", measure.wait_finished().remove(0));

    for (direction, n) in sweep.plan() {
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        let setup = imap_account(stack, proxy.port()).build();
        let cut = setup.mailer(&fetch).run();
        proxy.wait_finished();
        let after_cut = message_ids(&setup.local_folder(IMAP_MAILBOX));
        setup.configure(&imap_account(stack, "IMAPS_PORT"));
        let rerun = setup.mailer(&fetch).run();
        let case = sweep.case(direction, n, &cut, &[&rerun]);
        if cut.code() == 0 && after_cut.len() != server.len() {
            let what = format!(
                "the cut run exited 0 with {} of {} messages stored",
                after_cut.len(),
                server.len()
            );
            sweep.problem(case, what);
        }
        check_stored_once(
            &mut sweep,
            case,
            &server,
            &message_ids(&setup.local_folder(IMAP_MAILBOX)),
        );
    }
    sweep.finish();
}

/// Every message of `server` is in `local` exactly once, and nothing else is.
fn check_stored_once(
    sweep: &mut Sweep,
    case: usize,
    server: &BTreeMap<String, usize>,
    local: &BTreeMap<String, usize>,
) {
    for id in server.keys() {
        match local.get(id).copied().unwrap_or(0) {
            0 => sweep.lost(case, format!("{id} is not in the Maildir")),
            1 => {}
            copies => sweep.duplicated(case, format!("{id} in the Maildir"), copies, false),
        }
    }
    for id in local.keys().filter(|id| !server.contains_key(*id)) {
        sweep.problem(
            case,
            format!("{id} is in the Maildir but not on the server"),
        );
    }
}

fn pop3_account(stack: &Stack, user: &str, port: impl Port) -> Account {
    Account::new(user).maildir().pop3(stack, port)
}

#[test]
fn pop3_fetch_cut_anywhere_stores_each_message_once_and_keeps_the_server_whole() {
    let stack = stack();
    deliver_fixture(stack, "bob", "INBOX", "pop3");
    let server = message_ids(&stack.maildir("bob"));
    let target = stack.port("POP3S_PORT");
    let fetch = ["fetch", "--inbox"];

    let measure = CutProxy::pass(target);
    pop3_account(stack, "bob", measure.port())
        .build()
        .mailer(&fetch)
        .ok();
    let mut sweep = Sweep::new("POP3 fetch", measure.wait_finished().remove(0));

    for (direction, n) in sweep.plan() {
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        let setup = pop3_account(stack, "bob", proxy.port()).build();
        let cut = setup.mailer(&fetch).run();
        proxy.wait_finished();
        let after_cut = message_ids(&setup.path("Mail"));
        setup.configure(&pop3_account(stack, "bob", "POP3S_PORT"));
        let rerun = setup.mailer(&fetch).run();
        let case = sweep.case(direction, n, &cut, &[&rerun]);
        if cut.code() == 0 && after_cut.len() != server.len() {
            let what = format!(
                "the cut run exited 0 with {} of {} messages stored",
                after_cut.len(),
                server.len()
            );
            sweep.problem(case, what);
        }
        check_stored_once(&mut sweep, case, &server, &message_ids(&setup.path("Mail")));
        let kept = message_ids(&stack.maildir("bob"));
        if kept != server {
            sweep.problem(case, format!("the server has {kept:?}, not {server:?}"));
        }
    }
    sweep.finish();
}

/// Empties carol's INBOX and delivers the fixture again.
fn reseed_carol(stack: &Stack) -> BTreeMap<String, usize> {
    if !common::message_files(&stack.maildir("carol")).is_empty() {
        stack.doveadm(&[
            "expunge",
            "-u",
            "carol@example.test",
            "mailbox",
            "INBOX",
            "all",
        ]);
    }
    deliver_fixture(stack, "carol", "INBOX", "pop3-delete");
    message_ids(&stack.maildir("carol"))
}

#[test]
fn pop3_fetch_delete_cut_anywhere_deletes_only_what_is_stored() {
    let stack = stack();
    let target = stack.port("POP3S_PORT");
    let fetch = ["fetch", "--inbox", "--delete"];

    let server = reseed_carol(stack);
    let measure = CutProxy::pass(target);
    pop3_account(stack, "carol", measure.port())
        .build()
        .mailer(&fetch)
        .ok();
    let mut sweep = Sweep::new("POP3 fetch --delete", measure.wait_finished().remove(0));

    for (direction, n) in sweep.plan() {
        assert_eq!(reseed_carol(stack), server, "the same messages every time");
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        let setup = pop3_account(stack, "carol", proxy.port()).build();
        let cut = setup.mailer(&fetch).run();
        proxy.wait_finished();
        let stored = message_ids(&setup.path("Mail"));
        let kept = message_ids(&stack.maildir("carol"));
        setup.configure(&pop3_account(stack, "carol", "POP3S_PORT"));
        let rerun = setup.mailer(&fetch).run();
        let case = sweep.case(direction, n, &cut, &[&rerun]);
        for id in server.keys() {
            if !stored.contains_key(id) && !kept.contains_key(id) {
                sweep.lost(case, format!("{id} deleted but not stored"));
            }
        }
        if cut.code() == 0 && (stored.len() != server.len() || !kept.is_empty()) {
            let what = format!(
                "the cut run exited 0 with {} of {} stored and {} left on the server",
                stored.len(),
                server.len(),
                kept.len()
            );
            sweep.problem(case, what);
        }
        check_stored_once(&mut sweep, case, &server, &message_ids(&setup.path("Mail")));
        let left = message_ids(&stack.maildir("carol"));
        if !left.is_empty() {
            sweep.problem(case, format!("the clean rerun left {left:?} on the server"));
        }
    }
    sweep.finish();
}

// ---------------------------------------------------------------------------------------
// Outgoing: send, queue flush, digest. Everything goes to alice's INBOX; each message
// has a subject of its own, fixed in length so that every session has the same bytes.

const RECIPIENT: &str = "alice@example.test";

fn smtp_account(stack: &Stack, user: &str, port: impl Port) -> Account {
    Account::new(user).smtp(stack, port)
}

/// A body long enough that its DATA stands out from every command of the session.
fn body() -> String {
    "All work and no play makes a cut-point sweep a dull one.\n".repeat(40)
}

/// An outgoing message a sweep case expects, and whether a duplicate of it is allowed.
struct Outgoing {
    case: usize,
    subject: String,
    lost_reply: bool,
}

/// After every case of a sweep: waits until Postfix has delivered what it accepted, then
/// checks that each expected message arrived once (twice only where the reply to its
/// DATA was lost) and nothing else with the sweep's prefix did.
fn check_delivered(sweep: &mut Sweep, stack: &Stack, prefix: &str, expected: &[Outgoing]) {
    stack.wait_for_empty_queue();
    let mut delivered = subjects(stack, "alice", prefix);
    for out in expected {
        match delivered.remove(&out.subject).unwrap_or(0) {
            0 => sweep.lost(out.case, format!("{:?} was never delivered", out.subject)),
            1 => {}
            copies => {
                let what = format!("{:?} delivered", out.subject);
                sweep.duplicated(out.case, what, copies, out.lost_reply);
            }
        }
    }
    for (subject, copies) in delivered {
        let case = sweep.cases.len().saturating_sub(1);
        sweep.problem(
            case,
            format!("unexpected {subject:?} delivered {copies} times"),
        );
    }
}

/// What a clean rerun left in the outbox: nothing may wait once the server is back.
fn check_outbox_empty(sweep: &mut Sweep, case: usize, setup: &Setup) {
    let left = queued(setup);
    if !left.is_empty() {
        sweep.problem(
            case,
            format!("still queued after the clean flush: {left:?}"),
        );
    }
}

/// Which message's DATA, if any, the server had received completely and last when the
/// connection was cut: only that one may arrive twice.
fn lost_reply(traffic: &[Traffic], data_ends: &[u64]) -> Option<usize> {
    let to_server = traffic.first()?.to_server;
    data_ends.iter().position(|&end| end == to_server)
}

/// Where a flush's batch may lose its replies: from the start of the client's turn that
/// carries every message of the batch back to back (MAIL FROM, RCPT TO, BDAT LAST and
/// the message, for each) to the end of the server's turn of replies after it. A cut in
/// between may leave the server with any of those messages and the client with none of
/// their replies, so each may arrive twice (RFC 1047's window, for every message of the
/// write); a cut anywhere else, not one.
struct BatchWindow {
    data_start: u64,
    replies_end: u64,
}

impl BatchWindow {
    /// From an uncut flush: its one client turn of at least `min` bytes after the first.
    fn of(reference: &Traffic, min: u64) -> BatchWindow {
        let (mut to_server, mut to_client) = (0, 0);
        let mut window = None;
        let mut client_turns = 0;
        for &(direction, len) in &reference.turns {
            match direction {
                Direction::ToServer => {
                    client_turns += 1;
                    if client_turns > 1 && len >= min {
                        assert!(window.is_none(), "two batches: {:?}", reference.turns);
                        window = Some((to_server, None));
                    }
                    to_server += len;
                }
                Direction::ToClient => {
                    to_client += len;
                    if let Some((_, end @ None)) = &mut window {
                        *end = Some(to_client);
                    }
                }
            }
        }
        match window {
            Some((data_start, Some(replies_end))) => BatchWindow {
                data_start,
                replies_end,
            },
            _ => panic!("no batch and replies in {:?}", reference.turns),
        }
    }

    fn holds(&self, cut: &[Traffic]) -> bool {
        cut.first()
            .is_some_and(|t| t.to_server > self.data_start && t.to_client < self.replies_end)
    }
}

#[test]
fn send_cut_anywhere_delivers_or_queues() {
    let stack = stack();
    let target = stack.port("SUBMISSIONS_PORT");
    let body = body();
    let send = |setup: &Setup, subject: &str| {
        setup
            .mailer(&[
                "send",
                "--to",
                RECIPIENT,
                "--subject",
                subject,
                "--body",
                &body,
            ])
            .run()
    };

    let measure = CutProxy::pass(target);
    let setup = smtp_account(stack, "bob", measure.port()).build();
    send(&setup, "cutpt-send-refr").ok();
    let reference = measure.wait_finished().remove(0);
    let ends = data_ends(&reference, 1, 1000);
    let mut sweep = Sweep::new("SMTP send", reference);

    let mut expected = Vec::new();
    for (i, (direction, n)) in sweep.plan().into_iter().enumerate() {
        let subject = format!("cutpt-send-{i:04}");
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        let setup = smtp_account(stack, "bob", proxy.port()).build();
        let cut = send(&setup, &subject);
        let window = lost_reply(&proxy.wait_finished(), &ends);
        setup.configure(&smtp_account(stack, "bob", "SUBMISSIONS_PORT"));
        let rerun = setup.mailer(&["queue", "flush"]).run();
        let case = sweep.case(direction, n, &cut, &[&rerun]);
        check_outbox_empty(&mut sweep, case, &setup);
        expected.push(Outgoing {
            case,
            subject,
            lost_reply: window == Some(0),
        });
    }
    check_delivered(&mut sweep, stack, "cutpt-send-0", &expected);
    sweep.finish();
}

/// Messages a flush sends, queued while the account points at a closed port: one batch.
const QUEUED: usize = 3;

fn queue_messages(stack: &Stack, setup: &Setup, subjects: &[String], body: &str) {
    setup.configure(&smtp_account(stack, "carol", 1u16));
    for subject in subjects {
        setup
            .mailer(&[
                "send",
                "--to",
                RECIPIENT,
                "--subject",
                subject,
                "--body",
                body,
            ])
            .fails_with(75);
    }
}

#[test]
fn queue_flush_cut_anywhere_delivers_or_keeps_each_message() {
    let stack = stack();
    let target = stack.port("SUBMISSIONS_PORT");
    let body = body();
    let subjects = |case: &str| -> Vec<String> {
        (1..=QUEUED)
            .map(|k| format!("cutpt-flush-{case}-{k}"))
            .collect()
    };

    let measure = CutProxy::pass(target);
    let setup = Setup::empty();
    queue_messages(stack, &setup, &subjects("refr"), &body);
    setup.configure(&smtp_account(stack, "carol", measure.port()));
    setup.mailer(&["queue", "flush"]).ok();
    let reference = measure.wait_finished().remove(0);
    let window = BatchWindow::of(&reference, 1000);
    let mut sweep = Sweep::new("queue flush", reference);

    let mut expected = Vec::new();
    for (i, (direction, n)) in sweep.plan().into_iter().enumerate() {
        let setup = Setup::empty();
        let these = subjects(&format!("{i:04}"));
        queue_messages(stack, &setup, &these, &body);
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        setup.configure(&smtp_account(stack, "carol", proxy.port()));
        let cut = setup.mailer(&["queue", "flush"]).run();
        let replies_lost = window.holds(&proxy.wait_finished());
        setup.configure(&smtp_account(stack, "carol", "SUBMISSIONS_PORT"));
        let rerun = setup.mailer(&["queue", "flush"]).run();
        let case = sweep.case(direction, n, &cut, &[&rerun]);
        check_outbox_empty(&mut sweep, case, &setup);
        expected.extend(these.into_iter().map(|subject| Outgoing {
            case,
            subject,
            lost_reply: replies_lost,
        }));
    }
    check_delivered(&mut sweep, stack, "cutpt-flush-0", &expected);
    sweep.finish();
}

const DIGEST_MAILBOX: &str = "CutDigest";

/// An account that reads alice's digest mailbox over IMAPS and sends over SMTPS; `cut`
/// says which of the two goes through `proxy_port`.
fn digest_account(stack: &Stack, cut: Side, proxy_port: Option<u16>) -> Account {
    let (imap, smtp) = match (cut, proxy_port) {
        (Side::Imap, Some(p)) => (p, stack.port("SUBMISSIONS_PORT")),
        (Side::Smtp, Some(p)) => (stack.port("IMAPS_PORT"), p),
        (_, None) => (stack.port("IMAPS_PORT"), stack.port("SUBMISSIONS_PORT")),
    };
    Account::new("alice").imap(stack, imap).smtp(stack, smtp)
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Imap,
    Smtp,
}

fn digest(setup: &Setup, subject: &str) -> Run {
    setup
        .mailer(&[
            "digest",
            "--to",
            RECIPIENT,
            "-m",
            DIGEST_MAILBOX,
            "--subject",
            subject,
        ])
        .run()
}

/// A first digest of the mailbox (a fresh state each case) lists the same two
/// messages every time; the cut falls on the `side` connection. The rerun is the
/// digest again and then `queue flush`: a digest that was queued goes out then.
fn digest_sweep(side: Side, protocol: &'static str, prefix: &'static str) {
    let stack = stack();
    let target = match side {
        Side::Imap => stack.port("IMAPS_PORT"),
        Side::Smtp => stack.port("SUBMISSIONS_PORT"),
    };
    let measure = CutProxy::pass(target);
    let setup = digest_account(stack, side, Some(measure.port())).build();
    digest(&setup, &format!("{prefix}refr {{count}}")).ok();
    let reference = measure.wait_finished().remove(0);
    let ends = match side {
        Side::Imap => Vec::new(),
        Side::Smtp => data_ends(&reference, 1, 1000),
    };
    let mut sweep = Sweep::new(protocol, reference);

    let mut expected = Vec::new();
    for (i, (direction, n)) in sweep.plan().into_iter().enumerate() {
        let subject = format!("{prefix}{i:04} {{count}}");
        let proxy = CutProxy::cutting(target, Cut::first(direction, n));
        let setup = digest_account(stack, side, Some(proxy.port())).build();
        let cut = digest(&setup, &subject);
        let window = lost_reply(&proxy.wait_finished(), &ends);
        setup.configure(&digest_account(stack, side, None));
        let again = digest(&setup, &subject);
        let flush = setup.mailer(&["queue", "flush"]).run();
        let case = sweep.case(direction, n, &cut, &[&again, &flush]);
        check_outbox_empty(&mut sweep, case, &setup);
        expected.push(Outgoing {
            case,
            subject: subject.replace("{count}", "2"),
            lost_reply: window == Some(0),
        });
    }
    check_delivered(&mut sweep, stack, &format!("{prefix}0"), &expected);
    sweep.finish();
}

/// The two messages every first digest lists; delivered once per test binary.
fn digest_mailbox(stack: &Stack) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        stack.deliver(
            "alice",
            DIGEST_MAILBOX,
            &[
                b"Subject: digest me one\r\nFrom: Bob <bob@example.test>\r\nMessage-ID: <cut-d1@example.test>\r\n\r\nfirst line\r\n",
                b"Subject: digest me two\r\nFrom: Carol <carol@example.test>\r\nMessage-ID: <cut-d2@example.test>\r\n\r\nsecond line\r\n",
            ],
        );
    });
}

#[test]
fn digest_cut_while_reading_sends_one_digest() {
    digest_mailbox(stack());
    digest_sweep(Side::Imap, "digest (IMAP read)", "cutpt-digest-imap-");
}

#[test]
fn digest_cut_while_submitting_delivers_or_queues_it() {
    digest_mailbox(stack());
    digest_sweep(Side::Smtp, "digest (SMTP submit)", "cutpt-digest-smtp-");
}

// ---------------------------------------------------------------------------------------
// The planner and the proxy themselves.

#[test]
fn cut_points_are_distinct_in_range_and_include_the_edges_and_turn_ends() {
    let ends = [517, 600, 2_000, 300_000];
    // Enough points for every turn end and the byte before it.
    let cuts = spread(300_000, &ends, 20);
    assert_eq!(cuts.len(), 20);
    assert!(cuts.windows(2).all(|w| w[0] < w[1]), "{cuts:?}");
    assert!(cuts.iter().all(|n| (1..300_000).contains(n)), "{cuts:?}");
    for n in [1, 516, 517, 599, 600, 1_999, 2_000, 299_999] {
        assert!(cuts.contains(&n), "{n} missing from {cuts:?}");
    }
    assert_eq!(cuts, spread(300_000, &ends, 20), "deterministic");
    // Fewer: the edges, turn ends from the first on, and the rest spread evenly.
    let few = spread(300_000, &ends, 8);
    assert_eq!(few.len(), 8);
    assert!(few.contains(&1) && few.contains(&516) && few.contains(&299_999));
    assert!(few.iter().filter(|&&n| n > 2_000).count() >= 3, "{few:?}");
    assert_eq!(spread(5, &ends, 12), vec![1, 2, 3, 4]);
}

/// A server that sends `reply` bytes, reads until the end of the stream, and reports
/// how many it read, for each connection.
fn counting_server(reply: usize) -> (u16, std::sync::mpsc::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(&vec![b's'; reply]);
            let _ = conn.shutdown(Shutdown::Write);
            let mut got = Vec::new();
            let _ = conn.read_to_end(&mut got);
            let _ = tx.send(got.len());
        }
    });
    (port, rx)
}

/// Sends `request` bytes, then reads until the end of the stream.
fn client(port: u16, request: usize) -> usize {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = conn.write_all(&vec![b'c'; request]);
    let _ = conn.shutdown(Shutdown::Write);
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got);
    got.len()
}

#[test]
fn the_proxy_passes_exactly_n_bytes_then_ends_both_sides() {
    let (server, heard) = counting_server(50_000);

    let pass = CutProxy::pass(server);
    assert_eq!(client(pass.port(), 30_000), 50_000);
    assert_eq!(heard.recv().unwrap(), 30_000);
    let t = pass.wait_finished().remove(0);
    assert_eq!((t.to_server, t.to_client, t.cut), (30_000, 50_000, false));

    // Server to client, first connection only: the second passes whole.
    let proxy = CutProxy::cutting(server, Cut::first(Direction::ToClient, 1234));
    assert_eq!(client(proxy.port(), 10), 1234);
    heard.recv().unwrap();
    assert_eq!(client(proxy.port(), 10), 50_000);
    assert_eq!(heard.recv().unwrap(), 10);
    let traffic = proxy.wait_finished();
    assert_eq!(traffic[0].to_client, 1234);
    assert!(traffic[0].cut && !traffic[1].cut);

    // Client to server, every connection.
    let every = Cut {
        every_connection: true,
        ..Cut::first(Direction::ToServer, 777)
    };
    let proxy = CutProxy::cutting(server, every);
    for _ in 0..2 {
        client(proxy.port(), 20_000);
        assert_eq!(heard.recv().unwrap(), 777);
    }
    assert!(
        proxy
            .wait_finished()
            .iter()
            .all(|t| t.cut && t.to_server == 777)
    );
}
