//! Unit tests of the parent module.

use super::*;

#[test]
fn round_trip_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(dir.path(), "imap", &MailboxName::inbox());
    assert_eq!(load::<MailboxState>(&p).unwrap(), None);
    let s = MailboxState {
        uidvalidity: 7,
        last_uid: 42,
        folder: "/m".into(),
    };
    save(&p, &s).unwrap();
    assert_eq!(load(&p).unwrap(), Some(s));
    std::fs::write(&p, b"{garbage").unwrap();
    let err = load::<MailboxState>(&p).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}
