//! Unit tests of the parent module.

use super::*;

#[test]
fn add_list_note_remove() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path().join("outbox"));
    let msg = Outgoing {
        sender: "a@example.org".parse().unwrap(),
        recipients: vec![
            "b@example.org".parse().unwrap(),
            "c@example.org".parse().unwrap(),
        ],
        message_id: "<x@example.org>".into(),
        bytes: b"Subject: hi\r\n\r\nbody\r\n\r\nmore\r\n".to_vec(),
    };
    let id = outbox.add(&msg, "connection refused\nsecond line").unwrap();
    let all = outbox.list().unwrap();
    let q = all[0].as_ref().unwrap();
    assert_eq!(q.id, id);
    assert_eq!(q.message.bytes, msg.bytes);
    assert_eq!(q.message.recipients, msg.recipients);
    assert_eq!(q.error, "connection refused second line");
    outbox.note_failure(q, "again").unwrap();
    assert_eq!(outbox.load(&id).unwrap().attempts, 2);
    assert!(outbox.contains(&id) && !outbox.contains("../x"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(outbox.dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "queued mail is private");
    outbox.remove(&id).unwrap();
    assert!(outbox.list().unwrap().is_empty());
}
