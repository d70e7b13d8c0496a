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

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any argument list is parsed or refused with exit 64, never a panic; plain
        /// words are recipients, in order.
        #[test]
        fn fuzz_any_arguments_parse_or_are_refused(
            args in proptest::collection::vec(
                prop_oneof![
                    "-[tiofFBNrvbUo]{1,3}[a-z@.]{0,8}",
                    "--",
                    "[a-z]{1,8}@[a-z]{1,8}\\.test",
                    "\\PC{0,12}",
                ],
                0..10,
            )
        ) {
            match parse(&args) {
                Ok(o) => {
                    for r in &o.recipients {
                        prop_assert!(args.contains(r));
                    }
                }
                Err(f) => prop_assert_eq!(f.exit(), Exit::Usage),
            }
        }
    }
}

#[test]
fn an_option_letter_that_is_not_ascii_is_refused_not_a_crash() {
    let err = parse(&args(&["-ந..", "bob@example.org"])).unwrap_err();
    assert_eq!(err.exit(), Exit::Usage);
    assert!(err.to_string().contains("unknown option -ந.."), "{err}");
}
