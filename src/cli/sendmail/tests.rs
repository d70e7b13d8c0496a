//! Unit tests of the parent module.

use super::*;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_what_cron_and_git_send() {
    let o = parse(&args(&[
        "-t",
        "-oi",
        "-fcron@example.org",
        "-F",
        "Cron Daemon",
        "-odi",
        "-oem",
    ]))
    .unwrap();
    assert!(o.extract && o.ignore_dots);
    assert_eq!(o.envelope_from.as_deref(), Some("cron@example.org"));
    assert_eq!(o.full_name.as_deref(), Some("Cron Daemon"));
    let o = parse(&args(&[
        "-i",
        "-f",
        "x@example.org",
        "a@example.org",
        "--",
        "-b@example.org",
    ]))
    .unwrap();
    assert_eq!(o.recipients, ["a@example.org", "-b@example.org"]);
    let o = parse(&args(&[
        "-ti",
        "-B",
        "8BITMIME",
        "-N",
        "never",
        "x@example.org",
    ]))
    .unwrap();
    assert!(o.extract && o.ignore_dots);
    assert_eq!(o.recipients, ["x@example.org"]);
    assert!(parse(&args(&["-bs"])).is_err());
    assert!(parse(&args(&["-q"])).is_err());
    assert!(parse(&args(&["-f"])).is_err());
}
