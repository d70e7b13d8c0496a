//! Unit tests of the parent module.

use super::*;

#[test]
fn stage_commit_and_scan() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path(), false).unwrap();
    let meta = Meta {
        uid: Some(7),
        uidvalidity: Some(99),
        uidl: None,
        flags: String::new(),
    };
    let a = f.stage(b"Subject: a\r\n\r\nbody\r\n", &meta).unwrap();
    let b = f
        .stage(
            b"Subject: b\n\nx\n",
            &Meta {
                flags: "S".into(),
                uidl: Some("a/b:c".into()),
                ..Meta::default()
            },
        )
        .unwrap();
    assert!(
        f.scan().unwrap().is_empty(),
        "staged files must not be visible"
    );
    f.commit(&[&a, &b]).unwrap();
    let mut entries = f.scan().unwrap();
    entries.sort_by_key(|e| e.uid);
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[1].uid, entries[1].uidvalidity),
        (Some(7), Some(99))
    );
    assert_eq!(entries[1].wire_size, Some(20));
    assert_eq!(
        std::fs::read(&entries[1].path).unwrap(),
        b"Subject: a\n\nbody\n"
    );
    assert!(entries[0].path.to_string_lossy().ends_with(":2,S"));
    assert_eq!(entries[0].uidl.as_deref(), Some("a/b:c"));
    assert!(entries[0].path.parent().unwrap().ends_with("cur"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn folder_names() {
    let root = Path::new("/m");
    assert_eq!(
        folder_path(root, &MailboxName::new("INBOX"), "INBOX", Some('/')).unwrap(),
        root
    );
    assert_eq!(
        folder_path(
            root,
            &MailboxName::new("Archive/2024"),
            "Archive/2024",
            Some('/')
        )
        .unwrap(),
        root.join(".Archive.2024")
    );
    assert!(folder_path(root, &MailboxName::new("../etc"), "../etc", Some('.')).is_err());
    assert!(folder_path(root, &MailboxName::new("a/b"), "a/b", None).is_err());
}

#[test]
fn imap_flags_map_to_sorted_letters() {
    assert_eq!(
        flags_from_imap(["\\Seen", "\\Flagged", "\\Recent"].into_iter()),
        "FS"
    );
}

#[test]
fn folders_under_inbox_are_maildir_folders_of_their_own() {
    let root = Path::new("/m");
    let archive = MailboxName::new("INBOX.Archive");
    assert_eq!(
        folder_path(root, &archive, "INBOX.Archive", Some('.')).unwrap(),
        root.join(".Archive")
    );
    let sent = MailboxName::new("INBOX.Sent.2024");
    assert_eq!(
        folder_path(root, &sent, "INBOX.Sent.2024", Some('.')).unwrap(),
        root.join(".Sent.2024")
    );
    let other = MailboxName::new("INBOXES");
    assert_eq!(
        folder_path(root, &other, "INBOXES", Some('.')).unwrap(),
        root.join(".INBOXES")
    );
}

#[test]
fn staged_files_of_a_dead_run_are_cleaned_and_others_kept() {
    let dir = tempfile::tempdir().unwrap();
    let folder = Folder::open(dir.path(), false).unwrap();
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let host = hostname();
    let tmp = dir.path().join("tmp");
    let names = [
        format!("1796000000.M1P{dead}Q1.{host},U=1,V=1,S=5,W=6"),
        format!(
            "1796000000.M1P{}Q1.{host},U=2,V=1,S=5,W=6",
            std::process::id()
        ),
        format!("1796000000.M1P{dead}Q1.otherhost,U=3,V=1,S=5,W=6"),
        "someone-else.eml".to_string(),
    ];
    for name in &names {
        std::fs::write(tmp.join(name), b"x").unwrap();
    }
    folder.clean_stale_tmp();
    let left: Vec<bool> = names.iter().map(|n| tmp.join(n).exists()).collect();
    assert_eq!(left, [false, true, true, true]);
}

/// A message written piece by piece is the file `stage` would write of it whole: CRLF
/// turned to LF also where a piece ends between CR and LF, a CR before anything else
/// kept, a CR at the very end kept; its name carries the same size and line count.
#[test]
fn a_message_in_pieces_is_stored_as_it_would_be_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path(), false).unwrap();
    let pieces: [&[u8]; 5] = [
        b"Subject: x\r",
        b"\n\r\nline one\r",
        b"\r\nbare\rCR\r\n",
        b"end\r",
        b"",
    ];
    let whole: Vec<u8> = pieces.concat();
    let meta = Meta {
        uid: Some(7),
        uidvalidity: Some(1),
        uidl: None,
        flags: String::new(),
    };
    let mut growing = f.begin().unwrap();
    for piece in pieces {
        growing.append(piece).unwrap();
    }
    let in_pieces = f.finish(growing, &meta).unwrap();
    let at_once = f.stage(&whole, &meta).unwrap();
    let read = |s: &Staged| std::fs::read(s.tmp()).unwrap();
    assert_eq!(read(&in_pieces), read(&at_once));
    assert_eq!(
        read(&in_pieces),
        b"Subject: x\n\nline one\r\nbare\rCR\nend\r"
    );
    let name = |s: &Staged| s.dest().file_name().unwrap().to_string_lossy().into_owned();
    let tail = |n: String| n.split_once(",S=").unwrap().1.to_string();
    assert_eq!(tail(name(&in_pieces)), tail(name(&at_once)));
    // An abandoned message leaves nothing in tmp/ but what was staged.
    let mut growing = f.begin().unwrap();
    growing.append(b"partial").unwrap();
    growing.abandon();
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        2
    );
}
