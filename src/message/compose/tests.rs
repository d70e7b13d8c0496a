//! Unit tests of the parent module: the body a recipient's reader decodes is the text
//! given, last line end included, whatever the structure and the encoding.

use super::*;

fn sender() -> Address {
    "alice@example.org".parse().unwrap()
}

fn draft(text: &str, attach: bool) -> Draft {
    Draft {
        to: parse_mailboxes("--to", &["bob@example.org".to_string()]).unwrap(),
        text: text.to_string(),
        attachments: match attach {
            true => vec![AttachmentFile {
                filename: "a.txt".into(),
                content_type: "text/plain".into(),
                data: b"attached\n".to_vec(),
            }],
            false => Vec::new(),
        },
        ..Draft::default()
    }
}

/// The decoded text part of a built message.
fn text_of(built: &Outgoing) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(&built.bytes)
        .unwrap();
    parsed.body_text(0).unwrap().into_owned()
}

#[test]
fn the_last_line_end_survives_every_structure_and_encoding() {
    let long = format!("café {}\n", "x".repeat(100));
    for text in ["hello\nworld\n", "中文中文\n", long.as_str()] {
        for attach in [false, true] {
            let built = build(draft(text, attach), &sender(), None).unwrap();
            let got = text_of(&built).replace("\r\n", "\n");
            assert_eq!(
                got,
                text,
                "attach {attach}: {:?}",
                String::from_utf8_lossy(&built.bytes)
            );
        }
    }
}
