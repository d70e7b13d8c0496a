//! Unit tests of the parent module.

use super::*;

fn sender() -> Address {
    "alice@example.org".parse().unwrap()
}

fn from() -> Mailbox {
    "Alice 测试 <alice@example.org>".parse().unwrap()
}

fn headers() -> Recipients {
    Recipients::FromHeaders(Vec::new())
}

#[test]
fn takes_recipients_from_headers_and_strips_bcc() {
    let msg = b"From: a@example.org\nTo: Bob <bob@example.org>, c@example.org\nBcc: secret@example.org,\n  other@example.org\nSubject: hi\n\nbody\n.line\n";
    let out = prepare(msg, &sender(), headers(), &from()).unwrap();
    let rcpts: Vec<String> = out.recipients.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        rcpts,
        [
            "bob@example.org",
            "c@example.org",
            "secret@example.org",
            "other@example.org"
        ]
    );
    let text = String::from_utf8(out.bytes).unwrap();
    assert!(
        !text.contains("secret@") && !text.contains("other@"),
        "{text}"
    );
    assert!(!text.to_ascii_lowercase().contains("bcc:"), "{text}");
    assert!(
        text.contains("Message-ID: <") && text.contains("Date: "),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nbody\r\n.line\r\n"), "{text:?}");
    assert!(!text.replace("\r\n", "").contains('\n'));
}

#[test]
fn keeps_existing_message_id() {
    let msg = b"From: a@example.org\r\nMessage-ID: <x@y>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nTo: b@example.org\r\n\r\nhi\r\n";
    let out = prepare(msg, &sender(), headers(), &from()).unwrap();
    assert_eq!(out.message_id, "<x@y>");
    assert_eq!(out.bytes, msg.to_vec());
}

#[test]
fn adds_a_from_header_when_missing() {
    let out = prepare(b"To: b@example.org\n\nhi\n", &sender(), headers(), &from()).unwrap();
    let text = String::from_utf8(out.bytes).unwrap();
    assert!(text.starts_with("From: =?utf-8?b?"), "{text}");
    assert!(text.contains("<alice@example.org>\r\n"), "{text}");
}

#[test]
fn refuses_what_is_not_a_message() {
    assert!(matches!(
        prepare(b"\r\njust a body", &sender(), headers(), &from()),
        Err(Error::NotAMessage)
    ));
    assert!(matches!(
        prepare(
            b"Subject: x\r\n\r\nno one to send to\r\n",
            &sender(),
            headers(),
            &from()
        ),
        Err(Error::NoRecipients)
    ));
}

#[test]
fn a_message_starts_with_a_header_field() {
    assert!(looks_like_message(b"Subject: x\r\n\r\nbody"));
    assert!(looks_like_message(
        b"From alice@example.org Mon Jan  1 00:00:00 2026\nTo: b@example.org\n\nx"
    ));
    for not in [
        &b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n\n"[..],
        b"",
        b"\x00\x9f\x92\x96\n\n",
        b": no name\r\n\r\n",
        b"no colon at all\n\nx",
        b"Sub ject: spaces are not in names\n\n",
    ] {
        assert!(
            !looks_like_message(not),
            "{:?}",
            String::from_utf8_lossy(not)
        );
    }
}
