//! The annotated example config is a config mailer reads, commented-out accounts too.

#![allow(clippy::unwrap_used)]

mod common;

use common::Setup;

fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/mailer.example.toml"
    ))
    .unwrap()
}

#[test]
fn the_example_config_loads_with_every_account_uncommented() {
    let text = example();
    let setup = Setup::new(&text);
    setup.mailer(&["queue", "list"]).ok();
    // The accounts left commented out are valid too, once their `# ` is removed.
    let start = text.find("# [accounts.").unwrap();
    let (head, tail) = text.split_at(start);
    // A commented-out line of TOML is a table, a `key = value`, or empty; the rest is
    // prose and stays a comment.
    let uncommented: String = tail
        .lines()
        .map(|l| {
            let bare = l.strip_prefix("# ").or(l.strip_prefix('#')).unwrap_or(l);
            let toml = bare.starts_with('[') || bare.contains(" = ") || bare.is_empty();
            format!("{}\n", if toml { bare } else { l })
        })
        .collect();
    let setup = Setup::new(&format!("{head}{uncommented}"));
    for account in ["local", "office"] {
        setup
            .mailer(&[
                "-a",
                account,
                "send",
                "--to",
                "bob@example.org",
                "--body",
                "hi",
                "--dry-run",
            ])
            .ok();
    }
}
