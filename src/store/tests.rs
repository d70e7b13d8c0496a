//! Unit tests of the parent module.

use super::*;

#[test]
fn path_components_are_safe_and_distinct() {
    assert_eq!(path_component("INBOX"), "INBOX");
    assert_eq!(path_component("a/b"), "a%2Fb");
    assert_eq!(path_component(".."), "%2E.");
    assert_ne!(path_component("a b"), path_component("a_b"));
}

#[test]
fn atomic_write_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/state");
    write_atomic(&p, b"one").unwrap();
    write_atomic(&p, b"two").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"two");
    assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
}
