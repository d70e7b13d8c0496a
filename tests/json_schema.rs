//! `--json` as docs/json.md documents it: every data command is run against the stack
//! and each object it prints has exactly the fields its section lists (those marked
//! *omitted* may be left out), in the one layout (one document: an object on a line,
//! or an array with an element a line); the commands with nothing to print refuse
//! `--json`.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::oauth::auth_server;
use common::{Account, Run, Setup, stack};
use serde_json::Value;

/// Each section of docs/json.md: its example's fields, and those that may be left out.
struct Object {
    fields: BTreeSet<String>,
    optional: BTreeSet<String>,
    example: Value,
}

fn schema() -> BTreeMap<String, Object> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md"));
    let mut out = BTreeMap::new();
    for section in text.unwrap().split("\n## ").skip(1) {
        let name = section.lines().next().unwrap().trim().to_string();
        let Some((_, rest)) = section.split_once("```json\n") else {
            continue;
        };
        let example: Value = serde_json::from_str(rest.split("\n```").next().unwrap()).unwrap();
        let mut optional = BTreeSet::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            if cells.get(1).is_some_and(|c| c.contains("*omitted*")) {
                optional.extend(cells[0].split('`').skip(1).step_by(2).map(String::from));
            }
        }
        let fields = match &example {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => BTreeSet::new(),
        };
        out.insert(
            name,
            Object {
                fields,
                optional,
                example,
            },
        );
    }
    out
}

/// Asserts that `output` is one document of `name` objects (or an array of them) in
/// the one layout, and returns it.
fn conforms(name: &str, run: &Run) -> Value {
    let schema = schema();
    let object = schema
        .get(name)
        .unwrap_or_else(|| panic!("docs/json.md has no {name}"));
    let text = run.stdout();
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name}: {e}: {text}{}", run.stderr()));
    let items = match &value {
        Value::Array(items) => {
            let lines: Vec<&str> = text.trim_end().lines().collect();
            assert!(
                items.is_empty() || lines.len() == items.len() + 2,
                "layout: {text}"
            );
            items.clone()
        }
        one => {
            assert_eq!(text.trim_end().lines().count(), 1, "layout: {text}");
            vec![one.clone()]
        }
    };
    assert!(!items.is_empty(), "{name}: nothing printed to check");
    for item in &items {
        match (&object.example, item) {
            (Value::Array(_), Value::String(_)) => {}
            (Value::Object(_), Value::Object(map)) => {
                let keys: BTreeSet<String> = map.keys().cloned().collect();
                let unknown: Vec<_> = keys.difference(&object.fields).collect();
                assert!(
                    unknown.is_empty(),
                    "{name}: undocumented {unknown:?} in {item}"
                );
                let required: BTreeSet<_> = object.fields.difference(&object.optional).collect();
                let missing: Vec<_> = required.iter().filter(|k| !keys.contains(**k)).collect();
                assert!(missing.is_empty(), "{name}: no {missing:?} in {item}");
            }
            _ => panic!("{name}: {item} is not what docs/json.md shows"),
        }
    }
    value
}

fn mail(subject: &str) -> Vec<u8> {
    format!(
        "From: Zhang Wei <zhang@example.test>\r\nTo: carol@example.test\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\nDate: Mon, 30 Nov 2026 09:15:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n--b\r\nContent-Type: text/csv; name=r.csv\r\nContent-Disposition: attachment; filename=r.csv\r\n\r\na,b\r\n--b--\r\n"
    )
    .into_bytes()
}

#[test]
fn every_data_command_prints_what_docs_json_md_documents() {
    let stack = stack();
    stack.deliver("carol", "Schema", &[mail("schema-one").as_slice()]);
    stack.deliver(
        "carol",
        "Lines",
        &[mail("schema-two").as_slice(), &mail("schema-three")],
    );
    let setup = Account::new("carol")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let json = |args: &[&str]| setup.mailer(&[&["--json"], args].concat()).run();

    let listed = conforms("envelope", &json(&["list", "-m", "Schema"]));
    let uid = listed[0]["uid"].as_u64().unwrap().to_string();
    let found = conforms("envelope", &json(&["search", "-m", "Schema", "line"]));
    assert!(!found.as_array().unwrap().is_empty(), "{found}");
    let message = conforms("message", &json(&["read", "-m", "Schema", &uid]));
    assert_eq!(message["text"], "line one\nline two", "{message}");
    let fetched = conforms("envelope", &json(&["fetch", "-m", "Schema"]));
    assert!(fetched[0]["path"].is_string(), "{fetched}");
    conforms("mailbox", &json(&["mailboxes"]));
    let dir = setup.path("saved");
    std::fs::create_dir(&dir).unwrap();
    let dir = dir.to_str().unwrap();
    conforms(
        "attachments",
        &json(&["attachments", "-m", "Schema", &uid, "--dir", dir]),
    );
    conforms("check step", &json(&["check"]));
    let sent = json(&[
        "send",
        "--to",
        "bob@example.test",
        "-s",
        "schema",
        "--body",
        "x",
    ]);
    assert_eq!(conforms("send", &sent)["sent"], true);
    conforms("auth status", &json(&["auth", "status"]));
    let flagged = conforms(
        "flag",
        &json(&["flag", "add", "flagged", "-m", "Schema", &uid]),
    );
    assert_eq!(flagged["uids"][0].as_u64().unwrap().to_string(), uid);
    conforms(
        "mailbox change",
        &json(&["mailboxes", "create", "Schema-copies"]),
    );
    conforms(
        "move",
        &json(&["copy", "-m", "Schema", &uid, "Schema-copies"]),
    );
    conforms(
        "delete",
        &json(&["delete", "--expunge", "-m", "Schema-copies", "1"]),
    );

    // --json-lines: one object a line, no array.
    let lines = setup
        .mailer(&["fetch", "-m", "Lines", "--json-lines"])
        .run();
    lines.ok();
    let objects: Vec<Value> = lines
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2, "{}", lines.stdout());
    assert!(
        objects
            .iter()
            .all(|o| o["uid"].is_u64() && o["path"].is_string())
    );
}

#[test]
fn the_outbox_prints_queue_ids_and_counts() {
    let setup = Account::new("carol")
        .server("smtp", "127.0.0.1", common::closed_port())
        .security("none")
        .build();
    let send = [
        "--json",
        "send",
        "--to",
        "bob@example.test",
        "-s",
        "later",
        "--body",
        "x",
    ];
    let run = setup.mailer(&send).run();
    assert_eq!(run.code(), 75);
    let queued = conforms("send", &run);
    let listed = conforms("queued", &setup.mailer(&["--json", "queue", "list"]).run());
    assert_eq!(listed[0]["queue_id"], queued["queue_id"]);
    let flushed = setup.mailer(&["--json", "queue", "flush"]).run();
    assert_eq!(flushed.code(), 75);
    assert_eq!(
        conforms("flush", &flushed),
        serde_json::json!({"sent": 0, "left": 1})
    );
}

#[test]
fn sign_in_and_out_print_what_docs_json_md_documents() {
    let (stack, server) = (stack(), auth_server());
    let setup = Account::new("bob")
        .own_login("xoauth2", server)
        .imap(stack, "IMAPS_PORT")
        .build();
    let run = setup
        .mailer(&["--json", "auth", "login", "--browser"])
        .run_answering(|line| {
            if let Some(rest) = line.strip_prefix("  http") {
                server.approve(&format!("http{rest}"), "bob").unwrap();
            }
        });
    conforms("auth login", &run);
    let status = conforms(
        "auth status",
        &setup.mailer(&["--json", "auth", "status"]).run(),
    );
    assert!(
        status["expires_at"].as_str().unwrap().contains('T'),
        "{status}"
    );
    conforms(
        "auth logout",
        &setup.mailer(&["--json", "auth", "logout"]).run(),
    );
}

#[test]
fn commands_with_nothing_to_print_refuse_json() {
    let setup = Setup::empty();
    for args in [
        &["man"][..],
        &["completions", "bash"],
        &["queue", "drop", "1"],
        &["config", "check"],
        &["digest", "--to", "a@example.test"],
        &["account", "add", "a@fastmail.com", "--yes", "--no-check"],
    ] {
        let err = setup.mailer(&[&["--json"], args].concat()).fails_with(64);
        assert!(
            err.contains("prints nothing to read as JSON"),
            "{args:?}: {err}"
        );
    }
}
