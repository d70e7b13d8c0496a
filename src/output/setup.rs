//! What `account add` and `check` print.

use super::color::Paint;
use std::io::Write;
use std::path::Path;

use crate::commands::account::Added;
use crate::commands::check::Step;

use super::text::{print_json, printable};

/// The account written, where each server came from, and what to do next.
pub fn account_added(added: &Added, path: &Path) {
    let mut out = std::io::stdout().lock();
    let a = &added.account;
    let _ = writeln!(
        out,
        "added account {:?} ({}) to {}",
        a.name,
        a.email,
        path.display()
    );
    for (section, server, source) in &added.servers {
        let _ = writeln!(out, "  {section:<5} {server}  ({source})");
    }
    for hint in &added.hints {
        let _ = writeln!(out, "next: {}", printable(hint, false));
    }
}

/// Each step of a check: a line with its time, and the hint under a failed one.
pub fn check_steps(steps: &[Step], json: bool) {
    if json {
        return print_json(&steps);
    }
    let mut out = std::io::stdout().lock();
    for s in steps {
        let mark = match s.ok {
            true => super::color::paint("ok  ", Paint::Good),
            false => super::color::paint("FAIL", Paint::Bad),
        };
        let _ = writeln!(
            out,
            "{mark} {:<5} {:<8} {:>5} ms  {}",
            s.server,
            s.step,
            s.ms,
            printable(&s.detail, false)
        );
        if let Some(hint) = &s.hint {
            let fix = super::color::paint("fix:", Paint::Hint);
            let _ = writeln!(out, "     {fix} {}", printable(hint, false));
        }
    }
}
