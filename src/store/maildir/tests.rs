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
