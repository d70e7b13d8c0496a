//! The copy of a sent message that goes to the Sent mailbox: the exact bytes submitted,
//! with a `Bcc:` header naming the recipients the headers do not (they were taken out
//! of what the recipients got, but the sender's own copy should say who else had it).

use super::Outgoing;

/// The copy of `message` for the sender's Sent mailbox.
pub fn sent_copy(message: &Outgoing) -> Vec<u8> {
    let named = named_recipients(&message.bytes);
    let hidden: Vec<String> = message
        .recipients
        .iter()
        .map(ToString::to_string)
        .filter(|r| !named.iter().any(|n| n.eq_ignore_ascii_case(r)))
        .collect();
    if hidden.is_empty() {
        return message.bytes.clone();
    }
    let mut out = Vec::with_capacity(message.bytes.len() + 64);
    out.extend_from_slice(format!("Bcc: {}\r\n", hidden.join(", ")).as_bytes());
    out.extend_from_slice(&message.bytes);
    out
}

/// The addresses the message's To and Cc headers name.
fn named_recipients(bytes: &[u8]) -> Vec<String> {
    let Some(parsed) = mail_parser::MessageParser::default().parse_headers(bytes) else {
        return Vec::new();
    };
    let lists = [parsed.to(), parsed.cc()];
    lists
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|a| a.address().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(bytes: &[u8], recipients: &[&str]) -> Outgoing {
        Outgoing {
            sender: "alice@example.org".parse().unwrap(),
            recipients: recipients.iter().map(|r| r.parse().unwrap()).collect(),
            message_id: "<m@example.org>".into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn the_copy_names_the_hidden_recipients_and_is_otherwise_the_bytes_sent() {
        let bytes = b"From: alice@example.org\r\nTo: Bob <bob@example.org>\r\nCc: carol@example.org\r\nSubject: s\r\n\r\nhi\r\n";
        let plain = outgoing(bytes, &["bob@example.org", "Carol@example.org"]);
        assert_eq!(sent_copy(&plain), bytes);
        let hidden = outgoing(
            bytes,
            &["bob@example.org", "dave@example.org", "eve@example.org"],
        );
        let copy = sent_copy(&hidden);
        assert!(copy.starts_with(b"Bcc: dave@example.org, eve@example.org\r\nFrom:"));
        assert!(copy.ends_with(bytes));
    }
}
