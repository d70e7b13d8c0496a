//! Unit tests of the parent module.

use super::*;

async fn read_body(input: &[u8]) -> Result<Vec<u8>, ReadError> {
    let mut r = tokio::io::BufReader::new(input);
    let mut out = Vec::new();
    body(&mut r, &mut out).await.map(|()| out)
}

#[tokio::test]
async fn unstuffs_dots_and_stops_at_the_terminator() {
    let got = read_body(b"Subject: x\r\n\r\n..hidden\r\n.\r\n...two\r\nend\r\n.\r\n+OK next").await;
    assert_eq!(got.unwrap(), b"Subject: x\r\n\r\n.hidden\r\n".to_vec());
    let got = read_body(b"a\r\n...two\r\n.\r\n").await;
    assert_eq!(got.unwrap(), b"a\r\n..two\r\n".to_vec());
}

#[tokio::test]
async fn accepts_bare_lf_and_reports_a_cut() {
    assert_eq!(
        read_body(b"a\n..b\n.\n").await.unwrap(),
        b"a\n.b\n".to_vec()
    );
    assert_eq!(read_body(b"a\r\nb").await, Err(ReadError::Closed));
    assert_eq!(read_body(b"").await, Err(ReadError::Closed));
}

#[tokio::test]
async fn status_lines() {
    let mut r = tokio::io::BufReader::new(&b"+OK 2 320\r\n-ERR no such message\r\nHELLO\r\n"[..]);
    assert_eq!(status(&mut r).await, Ok("2 320".into()));
    assert_eq!(
        status(&mut r).await,
        Err(ReadError::Negative("no such message".into()))
    );
    assert_eq!(
        status(&mut r).await,
        Err(ReadError::Garbage("HELLO".into()))
    );
}

#[tokio::test]
async fn a_status_line_without_an_end_stops_at_its_limit() {
    let endless = vec![b'+'; limits::POP3_STATUS + 10];
    let mut r = tokio::io::BufReader::new(&endless[..]);
    assert_eq!(
        status(&mut r).await,
        Err(ReadError::TooMuch(TooMuch::new(
            "a line",
            limits::POP3_STATUS
        )))
    );
}

#[tokio::test]
async fn a_message_line_without_an_end_stops_at_its_limit() {
    let mut endless = b"Subject: x\r\n\r\n".to_vec();
    endless.resize(limits::POP3_LINE + 100, b'a');
    assert_eq!(
        read_body(&endless).await,
        Err(ReadError::TooMuch(TooMuch::new(
            "a line",
            limits::POP3_LINE
        )))
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn run<T>(fut: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(fut)
    }

    proptest! {
        /// Whatever a server sends, the parser ends with a value or an error, never a
        /// panic, and never returns more than it was given.
        #[test]
        fn fuzz_any_bytes_are_a_reply_or_an_error(input in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut r = tokio::io::BufReader::new(&input[..]);
            let _ = run(status(&mut r));
            let mut out = Vec::new();
            if run(body(&mut r, &mut out)).is_ok() {
                prop_assert!(out.len() <= input.len());
            }
        }

        /// Dot-stuffing undone gives back every line of the message, dots included.
        #[test]
        fn fuzz_dot_stuffed_lines_come_back_as_they_were(
            lines in proptest::collection::vec("[^\r\n]{0,40}", 0..30)
        ) {
            let mut wire = Vec::new();
            let mut want = Vec::new();
            for line in &lines {
                if line.starts_with('.') {
                    wire.push(b'.');
                }
                wire.extend_from_slice(line.as_bytes());
                wire.extend_from_slice(b"\r\n");
                want.extend_from_slice(line.as_bytes());
                want.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b".\r\n");
            prop_assert_eq!(run(read_body(&wire)).unwrap(), want);
        }
    }
}
