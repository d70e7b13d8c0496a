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

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A name from a message becomes one plain file name in the chosen directory.
        #[test]
        fn fuzz_any_name_stays_inside_the_directory(name in "\\PC{0,300}|[./\\\\\u{0}-\u{1f}a]{0,40}") {
            let safe = safe_name(Some(&name), "attachment-1");
            prop_assert!(!safe.is_empty());
            prop_assert!(!safe.contains('/') && !safe.contains('\\'));
            prop_assert!(!safe.starts_with('.'));
            prop_assert!(!safe.chars().any(char::is_control));
            prop_assert!(safe.len() <= 255);
            prop_assert_eq!(Path::new(&safe).components().count(), 1);
        }
    }
}
