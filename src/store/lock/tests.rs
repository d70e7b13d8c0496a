//! Unit tests of the parent module.

use super::*;

#[test]
fn second_holder_is_refused_until_the_first_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("acct.lock");
    let first = acquire(&p, Duration::ZERO).unwrap();
    let err = acquire(&p, Duration::from_millis(100)).unwrap_err();
    assert!(
        err.to_string().contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(first);
    acquire(&p, Duration::ZERO).unwrap();
}
