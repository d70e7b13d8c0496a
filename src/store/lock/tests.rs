//! Unit tests of the parent module.

use super::*;

#[tokio::test]
async fn second_holder_is_refused_until_the_first_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("acct.lock");
    let first = try_acquire(&p).unwrap();
    let err = acquire(&p, Duration::from_millis(100)).await.unwrap_err();
    assert!(
        err.to_string().contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(first);
    try_acquire(&p).unwrap();
}
