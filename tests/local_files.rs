//! What mailer leaves on the local disk: private files whatever the umask, and on a disk
//! that fills up, everything that fit, nothing half-written, and nothing lost.

#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{Account, stack};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory and file under `root`, with its mode.
fn modes(root: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        out.push((dir.display().to_string(), mode(&dir)));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.display().to_string(), mode(&path)));
            }
        }
    }
    out
}

#[test]
fn mail_state_locks_and_the_outbox_are_private_with_umask_022() {
    // SAFETY: umask only changes this process's file-creation mask, inherited by mailer.
    unsafe { libc::umask(0o022) };
    let stack = stack();
    stack.seed("carol", 3, "INBOX");
    stack.seed("carol", 2, "Archive");
    let setup = Account::new("carol")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .server_key("port", 1)
        .build();
    setup.mailer(&["fetch", "--inbox"]).ok();
    setup.mailer(&["fetch", "-m", "Archive"]).ok();
    setup
        .mailer(&["digest", "--to", "carol@example.test", "--if-empty", "send"])
        .fails_with(75);
    setup
        .mailer(&["send", "--to", "bob@example.test", "--body", "queued"])
        .fails_with(75);
    for root in [setup.path("Mail"), setup.path("state")] {
        let all = modes(&root);
        assert!(all.len() > 10, "{all:?}");
        for (path, mode) in all {
            let want = if Path::new(&path).is_dir() {
                0o700
            } else {
                0o600
            };
            assert_eq!(mode, want, "{path} is {mode:o}, not {want:o}");
        }
    }
}

/// Runs `script` in a private mount namespace, where it may mount a small tmpfs.
fn in_namespace(script: &str) -> String {
    let out = Command::new("unshare")
        .args(["-m", "sh", "-ec", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "unshare -m failed (the test needs root): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_full_disk_keeps_what_fit_leaves_no_staged_files_and_the_next_run_stores_the_rest() {
    let stack = stack();
    stack.seed("bob", 40, "INBOX");
    let setup = Account::new("bob")
        .maildir()
        .imap(stack, "IMAPS_PORT")
        .build();
    let mail = setup.path("Mail");
    std::fs::create_dir_all(&mail).unwrap();
    // The same run in a namespace: a 192 KiB disk, then the same disk grown to 64 MiB.
    let fetch = |rc: &str| {
        format!(
            "{} -c {} fetch --inbox >/dev/null 2>{}/{rc}.err || echo {rc}=$? >>{}/codes",
            env!("CARGO_BIN_EXE_mailer"),
            setup.config().display(),
            setup.path("").display(),
            setup.path("").display(),
        )
    };
    let script = format!(
        "export XDG_STATE_HOME={state}\n\
         mount -t tmpfs -o size=192k tmpfs {mail}\n\
         {first}\n\
         echo staged=$(ls {mail}/tmp | wc -l)\n\
         echo stored=$(ls {mail}/new {mail}/cur | grep -c ,U=)\n\
         mount -o remount,size=64m {mail}\n\
         {second}\n\
         echo staged_after=$(ls {mail}/tmp | wc -l)\n\
         echo ids=$(cat {mail}/new/* {mail}/cur/* | grep -ci '^message-id:')\n\
         echo unique=$(cat {mail}/new/* {mail}/cur/* | grep -i '^message-id:' | sort -u | wc -l)\n",
        state = setup.path("state").display(),
        mail = mail.display(),
        first = fetch("first"),
        second = fetch("second"),
    );
    let out = in_namespace(&script);
    let value = |key: &str| -> i64 {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .trim()
            .parse()
            .unwrap()
    };
    let codes = std::fs::read_to_string(setup.path("codes")).unwrap_or_default();
    let first_err = std::fs::read_to_string(setup.path("first.err")).unwrap_or_default();
    assert!(codes.contains("first=74"), "{codes} {first_err}");
    assert!(!codes.contains("second"), "the second run failed: {codes}");
    assert!(first_err.contains("No space left on device"), "{first_err}");
    assert_eq!(value("staged"), 0, "staged files left in tmp/: {out}");
    let stored = value("stored");
    assert!(
        stored > 0 && stored < 40,
        "the full disk kept {stored} of 40: {out}"
    );
    assert_eq!(value("staged_after"), 0, "{out}");
    assert_eq!(value("ids"), 40, "{out}");
    assert_eq!(value("unique"), 40, "{out}");
}
