//! Unit tests of the parent module.

use super::*;

#[test]
fn hostile_names_are_tamed() {
    assert_eq!(safe_name(Some("../../.bashrc"), "f"), "bashrc");
    assert_eq!(safe_name(Some("/etc/passwd"), "f"), "passwd");
    assert_eq!(safe_name(Some("a\0b\nc.txt"), "f"), "abc.txt");
    assert_eq!(safe_name(Some(".."), "f"), "f");
    assert_eq!(safe_name(Some("C:\\x\\报告.pdf"), "f"), "报告.pdf");
    assert_eq!(safe_name(None, "attachment-1"), "attachment-1");
}

#[test]
fn never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"mine").unwrap();
    let p = save_new(dir.path(), "a.txt", b"theirs").unwrap();
    assert_eq!(p.file_name().unwrap(), "a (1).txt");
    assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"mine");
}
