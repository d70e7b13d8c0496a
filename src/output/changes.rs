//! What the commands that change the server print: `flag`, `move`, `copy`, `delete`,
//! `mailboxes create|rename|delete`. A script without `--json` gets silence (the exit
//! status says it worked); a person a line; with `--json` one object.

use serde::Serialize;

use crate::commands::delete::Deleted;
use crate::commands::flag::Flagged;
use crate::commands::transfer::Transferred;

use super::text::{print_json, printable as shown};

fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    shown(text, false)
}

fn messages(n: usize) -> String {
    format!("{n} message{}", if n == 1 { "" } else { "s" })
}

/// `flag add|remove --json`.
#[derive(Serialize)]
struct FlaggedJson<'a> {
    mailbox: &'a str,
    flag: &'a str,
    action: &'static str,
    uids: &'a [u32],
}

pub fn flagged(f: &Flagged, json: bool, people: bool) {
    let action = if f.added { "add" } else { "remove" };
    if json {
        print_json(&FlaggedJson {
            mailbox: &f.mailbox,
            flag: &f.flag,
            action,
            uids: &f.uids,
        });
    } else if people {
        let done = if f.added { "set on" } else { "cleared from" };
        let (flag, n) = (printable(&f.flag), messages(f.uids.len()));
        println!("{flag} {done} {n} in {}", printable(&f.mailbox));
    }
}

/// `move --json`, `copy --json`.
#[derive(Serialize)]
struct TransferredJson<'a> {
    action: &'static str,
    mailbox: &'a str,
    to: &'a str,
    uids: &'a [u32],
    /// Only a move on a server without MOVE or UIDPLUS: true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    left_marked_deleted: bool,
}

pub fn transferred(t: &Transferred, json: bool, people: bool) {
    let action = if t.moved { "move" } else { "copy" };
    if json {
        return print_json(&TransferredJson {
            action,
            mailbox: &t.mailbox,
            to: &t.target,
            uids: &t.uids,
            left_marked_deleted: t.left_marked,
        });
    }
    let (from, to) = (printable(&t.mailbox), printable(&t.target));
    if people {
        let done = if t.moved { "moved" } else { "copied" };
        println!("{done} {} from {from} to {to}", messages(t.uids.len()));
    }
    if t.left_marked {
        eprintln!(
            "mailer: the server offers neither MOVE nor UIDPLUS: the messages are copied to {to} and marked deleted in {from}, where they stay until expunged"
        );
    }
}

/// `delete --json`.
#[derive(Serialize)]
struct DeletedJson<'a> {
    action: &'static str,
    mailbox: &'a str,
    /// The Trash they were moved to; null when expunged.
    to: Option<&'a str>,
    expunged: bool,
    uids: &'a [u32],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    left_marked_deleted: bool,
}

pub fn deleted(d: &Deleted, json: bool, people: bool) {
    if json {
        return print_json(&DeletedJson {
            action: "delete",
            mailbox: &d.mailbox,
            to: d.trash.as_deref(),
            expunged: d.trash.is_none(),
            uids: &d.uids,
            left_marked_deleted: d.left_marked,
        });
    }
    let (n, from) = (messages(d.uids.len()), printable(&d.mailbox));
    match (&d.trash, people) {
        (Some(trash), true) => println!("moved {n} from {from} to {}", printable(trash)),
        (None, true) => println!("removed {n} from {from} for good"),
        _ => {}
    }
    if d.left_marked {
        eprintln!(
            "mailer: the server offers neither MOVE nor UIDPLUS: the messages are copied to the Trash and marked deleted in {from}, where they stay until expunged"
        );
    }
}

/// `mailboxes create|rename|delete --json`.
#[derive(Serialize)]
struct MailboxChangedJson<'a> {
    action: &'static str,
    mailbox: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
}

pub fn mailbox_changed(change: &crate::imap::MailboxChange, json: bool, people: bool) {
    use crate::imap::MailboxChange as C;
    let (action, mailbox, to) = match change {
        C::Create(m) => ("create", m.as_str(), None),
        C::Delete(m) => ("delete", m.as_str(), None),
        C::Rename(a, b) => ("rename", a.as_str(), Some(b.as_str())),
        C::Subscribe(m) => ("subscribe", m.as_str(), None),
    };
    if json {
        print_json(&MailboxChangedJson {
            action,
            mailbox,
            to,
        });
    } else if people {
        let m = printable(mailbox);
        match to {
            Some(to) => println!("renamed {m} to {}", printable(to)),
            None => println!("{action}d {m}"),
        }
    }
}
