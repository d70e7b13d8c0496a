//! A second reading of a text part that its declared charset could not read. Senders
//! get the label wrong (UTF-8 labelled `gb2312`) or leave it out (8-bit GB2312 with no
//! charset, which RFC 2045 would have be US-ASCII); mail-parser then gives U+FFFD for
//! every byte it could not place, and nothing of the text survives. Only such a part is
//! read again, so a text its label reads stays exactly as mail-parser decoded it.

use mail_parser::{Encoding, MessagePart, MimeHeaders};

/// The text of `part` read again when mail-parser's reading (`decoded`) has U+FFFD:
/// as UTF-8 when the bytes are valid UTF-8 (whatever the label said), else, when there
/// is no label or it said US-ASCII, in the charset the bytes look like (chardetng,
/// Firefox's detector). None keeps mail-parser's reading: the bytes hold U+FFFD
/// themselves, the guess reads no better, or the part is not text.
pub fn reread(part: &MessagePart, raw_message: &[u8], decoded: &str) -> Option<String> {
    if !decoded.contains('\u{FFFD}') {
        return None;
    }
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).min(raw_message.len());
    let raw = raw_message.get(start..end)?;
    let bytes = match part.encoding {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw)?,
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)?
        }
        Encoding::None => raw.to_vec(),
    };
    if let Ok(text) = std::str::from_utf8(&bytes) {
        // Valid UTF-8 with a U+FFFD of its own: the sender's, not a misreading.
        return (!text.contains('\u{FFFD}')).then(|| text.to_string());
    }
    let label = part.content_type().and_then(|t| t.attribute("charset"));
    let unlabelled =
        label.is_none_or(|l| l.eq_ignore_ascii_case("us-ascii") || l.eq_ignore_ascii_case("ascii"));
    if !unlabelled {
        return None;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(&bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    let (text, _, malformed) = guess.decode(&bytes);
    (!malformed).then(|| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::super::full;

    /// Chinese text in UTF-8 under a `gb2312` label: read as the UTF-8 it is.
    #[test]
    fn utf8_under_a_wrong_label_is_read_as_utf8() {
        let message = "From: a@example.test\r\nContent-Type: text/plain; charset=gb2312\r\n\
            Content-Transfer-Encoding: 8bit\r\n\r\n你好，世界。这是一封测试邮件。\r\n";
        let text = full(message.as_bytes()).text.unwrap();
        assert_eq!(text.trim_end(), "你好，世界。这是一封测试邮件。");
    }

    /// GB2312 bytes with no charset at all: the detector names GBK and the text reads.
    #[test]
    fn eight_bit_text_without_a_charset_is_read_in_the_charset_it_looks_like() {
        let (gb, _, _) = encoding_rs::GBK.encode("您好，欢迎使用我们的邮件服务。谢谢！");
        let mut message = b"From: a@example.test\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        message.extend_from_slice(&gb);
        message.extend_from_slice(b"\r\n");
        let text = full(&message).text.unwrap();
        assert_eq!(text.trim_end(), "您好，欢迎使用我们的邮件服务。谢谢！");
    }

    /// A label that reads the bytes is kept, though UTF-8 might read them too; and a
    /// declared charset that is not US-ASCII is never second-guessed by the detector.
    #[test]
    fn a_label_that_reads_the_text_or_names_a_real_charset_is_kept() {
        let message = b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\ncaf\xc3\xa9\r\n";
        assert_eq!(full(message).text.unwrap().trim_end(), "cafÃ©");
        let (gb, _, _) = encoding_rs::GBK.encode("您好，欢迎使用我们的邮件服务。");
        let mut message = b"Content-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
        message.extend_from_slice(&gb);
        let text = full(&message).text.unwrap();
        assert!(text.contains('\u{FFFD}'), "{text}");
    }
}
