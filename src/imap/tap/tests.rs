//! Unit tests of the parent module.

use super::*;

#[test]
fn keeps_the_last_tagged_refusal_even_when_split_across_reads() {
    let mut seen = Seen::default();
    seen.feed(b"* OK ready\r\nA0001 OK done\r\nA00").unwrap();
    seen.feed(b"02 NO [AUTHENTICATIONFAILED] Authentication")
        .unwrap();
    seen.feed(b" failed.\r\n").unwrap();
    assert_eq!(
        seen.refusal.as_deref(),
        Some("[AUTHENTICATIONFAILED] Authentication failed.")
    );
}

#[test]
fn ignores_untagged_lines_and_other_statuses() {
    let mut seen = Seen::default();
    seen.feed(b"* NO [ALERT] disk full\r\nA0003 OK [READ-ONLY] done\r\nAbc NO x\r\n")
        .unwrap();
    assert_eq!(seen.refusal, None);
    seen.feed(b"A0004 BAD Error in IMAP command\r\n").unwrap();
    assert_eq!(seen.refusal.as_deref(), Some("Error in IMAP command"));
}

#[test]
fn a_literal_is_data_not_syntax() {
    let mut seen = Seen::default();
    let fetch = b"* 1 FETCH (UID 7 BODY[] {23}\r\nA0009 NO fake (((((\r\n\"q FLAGS (\\Seen))\r\n";
    seen.feed(fetch).unwrap();
    assert_eq!(seen.refusal, None);
    assert_eq!(seen.shape.depth, 0, "{:?}", seen.shape);
    seen.feed(b"A0010 NO [NONEXISTENT] gone\r\n").unwrap();
    assert_eq!(seen.refusal.as_deref(), Some("[NONEXISTENT] gone"));
}

#[test]
fn deep_nesting_is_refused_before_the_parser_sees_it() {
    let mut seen = Seen::default();
    let deep = format!("* 1 FETCH (BODYSTRUCTURE {}", "(".repeat(2000));
    assert_eq!(
        seen.feed(deep.as_bytes()),
        Err(TooMuch::new("nesting", limits::IMAP_NESTING))
    );
    let mut seen = Seen::default();
    let fine = format!("* 1 FETCH ({}{})\r\n", "(".repeat(50), ")".repeat(50));
    seen.feed(fine.as_bytes()).unwrap();
}

#[test]
fn a_line_without_an_end_and_a_huge_literal_are_refused() {
    let mut seen = Seen::default();
    let chunk = vec![b'x'; 64 << 10];
    let mut result = Ok(());
    for _ in 0..=(limits::IMAP_LINE >> 16) {
        result = result.and(seen.feed(&chunk));
    }
    assert_eq!(result, Err(TooMuch::new("a line", limits::IMAP_LINE)));
    // A SEARCH reply lists UIDs: it may be longer.
    let mut seen = Seen::default();
    seen.feed(b"* SEARCH").unwrap();
    let uids = " 4294967295".repeat(200_000);
    seen.feed(uids.as_bytes()).unwrap();
    let mut seen = Seen::default();
    assert_eq!(
        seen.feed(b"* 1 FETCH (BODY[] {999999999999}\r\n"),
        Err(TooMuch::new("a literal", limits::IMAP_LITERAL))
    );
}

#[test]
fn parentheses_in_quoted_strings_do_not_count() {
    let mut seen = Seen::default();
    let quoted = format!("* LIST () \"/\" \"{}\\\"\"\r\n", "(".repeat(500));
    seen.feed(quoted.as_bytes()).unwrap();
    assert_eq!(seen.shape.depth, 0);
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Feeds `input` cut at `cuts`; returns the refusal seen and the first error.
    fn fed(input: &[u8], cuts: &[usize]) -> (Option<String>, Option<TooMuch>) {
        let mut seen = Seen::default();
        let mut at = 0;
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        points.sort_unstable();
        points.push(input.len());
        for p in points {
            if let Err(e) = seen.feed(&input[at..p.max(at)]) {
                return (seen.refusal, Some(e));
            }
            at = p.max(at);
        }
        (seen.refusal, None)
    }

    proptest! {
        /// How the bytes are split into reads never changes what the tap concludes, and
        /// nothing a server sends makes it panic.
        #[test]
        fn fuzz_reads_split_anywhere_give_the_same_verdict(
            input in proptest::collection::vec(
                prop_oneof![
                    Just(b'('), Just(b')'), Just(b'"'), Just(b'\\'), Just(b'{'), Just(b'}'),
                    Just(b'\r'), Just(b'\n'), Just(b'A'), Just(b'0'), Just(b'5'), Just(b' '),
                    any::<u8>(),
                ],
                0..2048,
            ),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            prop_assert_eq!(fed(&input, &[]), fed(&input, &cuts));
        }

        /// A refusal is found wherever it sits among other responses.
        #[test]
        fn fuzz_a_refusal_after_any_responses_is_found(
            // Plain responses: no quotes, lists or literals, which would change where a
            // response ends.
            before in proptest::collection::vec("\\* [A-Z]{2,8} [ !#-'*-z|~]{0,40}", 0..10),
            text in "[ !#-'*-z|~]{1,60}",
        ) {
            let mut input = String::new();
            for line in &before {
                input.push_str(line);
                input.push_str("\r\n");
            }
            input.push_str(&format!("A0042 NO {text}\r\n"));
            let (refusal, error) = fed(input.as_bytes(), &[]);
            prop_assert_eq!(error, None);
            prop_assert_eq!(refusal, Some(crate::error::one_line(&text)));
        }
    }
}

#[test]
fn many_literals_in_one_response_are_capped_as_a_whole() {
    let mut seen = Seen::default();
    let big = 200 << 20;
    let head = format!("* 1 FETCH (BODY[1] {{{big}}}\r\n");
    seen.feed(head.as_bytes()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut result = Ok(());
    for _ in 0..200 {
        result = result.and(seen.feed(&chunk));
    }
    result.unwrap();
    let second = format!(" BODY[2] {{{big}}}\r\n");
    seen.feed(second.as_bytes()).unwrap();
    let mut result = Ok(());
    for _ in 0..200 {
        result = result.and(seen.feed(&chunk));
    }
    assert!(
        matches!(
            result,
            Err(TooMuch {
                what: "a response",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn eight_bit_text_of_a_tagged_line_reaches_the_parser_as_question_marks() {
    let mut seen = Seen::default();
    let mut bytes = "* 3 EXISTS 已\r\nA0002 NO Mailbox doesn't exist: 已发送\r\n"
        .as_bytes()
        .to_vec();
    seen.feed_mut(&mut bytes).unwrap();
    let passed = bytes;
    assert!(passed.ends_with(b"A0002 NO Mailbox doesn't exist: ?????????\r\n"));
    assert!(
        passed.starts_with("* 3 EXISTS 已".as_bytes()),
        "only tagged lines"
    );
    assert_eq!(
        seen.refusal.as_deref(),
        Some("Mailbox doesn't exist: 已发送")
    );
}

/// A writer that records each write it is given.
#[derive(Default)]
struct Writes(Vec<Vec<u8>>);

impl AsyncWrite for Writes {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.push(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_command_written_in_pieces_leaves_in_one_write() {
    use tokio::io::AsyncWriteExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut tap = Tap::new(Writes::default(), Shared::default());
    runtime.block_on(async {
        for piece in [&b"A0003"[..], b" ", b"EXAMINE \"INBOX\"", b"\r\n"] {
            tap.write_all(piece).await.unwrap();
        }
        tap.flush().await.unwrap();
        tap.write_all(&vec![b'x'; 100_000]).await.unwrap();
        tap.flush().await.unwrap();
    });
    let writes = tap.into_inner().0;
    assert_eq!(writes[0], b"A0003 EXAMINE \"INBOX\"\r\n");
    // A large write goes on in pieces of the buffer's size, all of it.
    let rest: usize = writes[1..].iter().map(Vec::len).sum();
    assert_eq!(rest, 100_000);
    assert!(writes[1..].iter().all(|w| w.len() <= WRITE_BUFFER));
}
