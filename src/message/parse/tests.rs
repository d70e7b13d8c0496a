//! Unit tests of the parent module.

use super::*;

#[test]
fn decodes_legacy_cjk_and_cyrillic_charsets() {
    let msg = concat!(
        "From: =?gb2312?B?1dTI/Q==?= <z@example.org>\r\n",
        "Subject: =?gb2312?B?1tyxqA==?=\r\n",
        "To: =?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= <j@example.jp>,\r\n",
        " =?euc-kr?B?x9Gxub7u?= <k@example.kr>, =?koi8-r?B?8NLJ18XU?= <r@example.ru>,\r\n",
        " =?shift_jis?B?k/qWe4zq?= <s@example.jp>\r\n\r\nhi\r\n"
    );
    let e = full(msg.as_bytes()).envelope;
    assert_eq!(e.subject.as_deref(), Some("周报"));
    assert_eq!(e.from[0].name.as_deref(), Some("赵三"));
    let names: Vec<_> = e.to.iter().map(|p| p.display()).collect();
    assert_eq!(names, ["会議", "한국어", "Привет", "日本語"]);
}

#[test]
fn big5_body_and_html_only_message() {
    let mut msg = b"Content-Type: text/plain; charset=big5\r\n\r\n".to_vec();
    msg.extend_from_slice(&[0xa4, 0xa4, 0xa4, 0xe5, b'\r', b'\n']);
    // Text comes with LF line ends, whatever the message had.
    assert_eq!(full(&msg).text.as_deref(), Some("中文\n"));
    let html = b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>world</b></p>\r\n";
    let f = full(html);
    // html2text marks bold as **world**, as a terminal reader expects.
    let text = f.text.unwrap();
    assert!(text.contains("Hello **world**"), "{text}");
    assert!(f.html.unwrap().contains("<b>"));
    assert_eq!(full(b"Subject: t\r\n\r\njust text\r\n").html, None);
}

#[test]
fn summary_lists_attachments_like_a_full_parse() {
    let msg = concat!(
        "Subject: =?utf-8?b?5ZGo5oql?=\r\nMIME-Version: 1.0\r\n",
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n",
        "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n",
        "--b2\r\nContent-Type: text/plain\r\n\r\ntext\r\n",
        "--b2\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b2--\r\n",
        "--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n",
        "Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf\r\n\r\n",
        "AAECAwQFBgcICQoL\r\nDA0ODw==\r\n",
        "--b1\r\nContent-Type: text/csv; name=\"d.csv\"\r\nContent-Disposition: attachment\r\n\r\na,b\r\n",
        "--b1--\r\n"
    );
    let fast = summary(msg.as_bytes());
    let full = full(msg.as_bytes()).envelope;
    assert_eq!(fast.subject.as_deref(), Some("周报"));
    let names = |e: &Envelope| {
        e.attachments
            .iter()
            .map(|a| (a.filename.clone(), a.content_type.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&fast), names(&full));
    assert_eq!(fast.attachments[0].filename.as_deref(), Some("报告.pdf"));
    assert_eq!(fast.attachments[0].size, 16);
    assert_eq!(full.attachments[0].size, 16);
    // The summary passes over bodies, so base64 without its padding is not repaired
    // there: the size it gives is still the decoded one.
    let unpadded = msg.replace("DA0ODw==", "DA0ODw");
    assert_eq!(summary(unpadded.as_bytes()).attachments[0].size, 16);
    let full = crate::message::parse::full(unpadded.as_bytes()).envelope;
    assert_eq!(full.attachments[0].size, 16);
}

#[test]
fn garbage_gives_an_empty_envelope() {
    let e = full(b"\x00\xff\xfe").envelope;
    assert!(e.subject.is_none());
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    fn message_like() -> impl Strategy<Value = Vec<u8>> {
        let header = prop_oneof![
            "Subject: [ -~]{0,30}",
            "From: [a-z]{1,8} <[a-z]{1,8}@example.org>",
            "Content-Type: multipart/(mixed|alternative); boundary=b[0-9]",
            "Content-Type: (text/plain|text/html|application/pdf|message/rfc822)(; charset=(utf-8|gbk|iso-8859-1|shift_jis))?",
            "Content-Transfer-Encoding: (base64|quoted-printable|8bit)",
            "Content-Disposition: attachment; filename=\"[ -~]{0,20}\"",
        ];
        let line = prop_oneof![
            header,
            "--b[0-9](--)?",
            "[A-Za-z0-9+/=]{0,76}",
            "=?utf-8?[BQ]?[ -~]{0,20}?=",
            "[ -~]{0,60}",
        ];
        (
            proptest::collection::vec(line, 0..40),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(lines, tail)| {
                let mut out = lines.join("\r\n").into_bytes();
                out.extend_from_slice(&tail);
                out
            })
    }

    proptest! {
        /// What `read --file` and `fetch` do with a message never panics, whatever the
        /// bytes; and what they would print is free of raw control characters.
        #[test]
        fn fuzz_any_message_parses_and_renders_safely(bytes in message_like()) {
            let full = full(&bytes);
            let _ = summary(&bytes);
            let _ = attachment_contents(&bytes);
            let e = &full.envelope;
            for field in [e.subject.as_deref(), full.text.as_deref()].into_iter().flatten() {
                let shown = crate::output::printable(field, true);
                prop_assert!(!shown.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            }
        }

        #[test]
        fn fuzz_any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = full(&bytes);
            let _ = summary(&bytes);
            let _ = envelope_from_headers(&bytes, 0);
        }
    }
}

#[test]
fn html_only_mail_keeps_paragraphs_lists_and_link_targets() {
    let raw = b"Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Title</p><p>Para <a href=\"https://example.org/x\">link</a></p><ul><li>one</li><li>two</li></ul>";
    let text = full(raw).text.unwrap();
    assert!(!text.contains("TitlePara"), "{text}");
    assert!(text.contains("Title\n"), "{text}");
    assert!(text.contains("https://example.org/x"), "{text}");
    assert!(text.contains("* one") || text.contains("- one"), "{text}");
}

#[test]
fn html_nested_too_deep_for_html2text_falls_back_without_a_crash() {
    let html = format!("{}deep{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
    assert!(nesting(&html) > MAX_HTML_NESTING);
    let raw = format!("Subject: h\r\nContent-Type: text/html\r\n\r\n{html}");
    let text = full(raw.as_bytes()).text.unwrap();
    assert!(text.contains("deep"), "{}", &text[..text.len().min(200)]);
    assert_eq!(nesting("<p>a<br>b<img src=x/></p><!-- c --><hr>"), 1);
}

/// Issue 13's messages, each cut down to what shows its bug: read as the RFCs say.
mod real_world {
    use super::*;

    #[test]
    fn a_date_in_the_zone_ut_keeps_the_header_after_it() {
        for zone in ["UT", "Z"] {
            let msg = format!(
                "Date: Wed, 20 Dec 1995 19:59:00 {zone}\r\nSubject: kept\r\nFrom: a@example.org\r\n\r\nx\r\n"
            );
            let e = full(msg.as_bytes()).envelope;
            assert_eq!(e.subject.as_deref(), Some("kept"), "{zone}");
            assert_eq!(e.date.as_deref(), Some("1995-12-20T19:59:00Z"), "{zone}");
        }
    }

    #[test]
    fn bare_cr_line_ends_read_like_crlf() {
        let msg = b"From: Bob <bob@example.org>\rSubject: old mac\rDate: Wed, 20 Dec 1995 19:59:00 +0000\r\rthe body\r";
        let f = full(msg);
        assert_eq!(f.envelope.subject.as_deref(), Some("old mac"));
        assert_eq!(
            f.envelope.from[0].address.as_deref(),
            Some("bob@example.org")
        );
        assert_eq!(f.text.as_deref(), Some("the body\n"));
    }

    #[test]
    fn a_parameter_folded_after_its_equals_sign_keeps_its_value() {
        let msg = concat!(
            "Subject: folded\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\r\n\t\"xxx\"\r\n\r\n",
            "--xxx\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
            "--xxx\r\nContent-Type: application/octet-stream; name=\r\n\t\"=?koi8-r?B?8NLJ18XU?=.txt\"\r\n",
            "Content-Disposition: attachment; filename=\r\n\t\"=?koi8-r?B?8NLJ18XU?=.txt\"\r\n\r\nabc\r\n--xxx--\r\n"
        );
        let f = full(msg.as_bytes());
        assert_eq!(f.text.as_deref(), Some("hello"));
        let names: Vec<_> = f
            .envelope
            .attachments
            .iter()
            .map(|a| a.filename.clone())
            .collect();
        assert_eq!(names, [Some("Привет.txt".to_string())]);
    }

    #[test]
    fn a_separator_line_of_white_space_ends_the_headers() {
        let msg =
            "Subject: spaces\r\nContent-Transfer-Encoding: base64\r\n  \r\naGVsbG8gd29ybGQ=\r\n";
        let f = full(msg.as_bytes());
        assert_eq!(f.envelope.subject.as_deref(), Some("spaces"));
        assert_eq!(f.text.as_deref(), Some("hello world"));
    }

    #[test]
    fn a_multipart_cut_short_is_still_decoded() {
        let msg = concat!(
            "Subject: cut\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n",
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "caf=C3=A9 ouvert\r\n"
        );
        assert_eq!(full(msg.as_bytes()).text.as_deref(), Some("café ouvert"));
    }

    #[test]
    fn a_type_without_subtype_is_text_plain() {
        let msg =
            b"Subject: t\r\nContent-Type: text; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n";
        assert_eq!(full(msg).text.as_deref(), Some("Привет\n"));
    }

    #[test]
    fn a_repeated_from_shows_the_first_and_says_so() {
        let msg = b"From: <any@attack.example>\r\nFrom: <admin@legitimate.example>\r\nSubject: one\r\nSubject: two\r\nTo: a@example.org\r\n\r\nx\r\n";
        for e in [full(msg).envelope, summary(msg)] {
            assert_eq!(e.from[0].address.as_deref(), Some("any@attack.example"));
            assert_eq!(e.subject.as_deref(), Some("one"));
            assert_eq!(e.repeated_headers, ["From", "Subject"]);
        }
        assert!(
            full(b"From: a@example.org\r\n\r\nx")
                .envelope
                .repeated_headers
                .is_empty()
        );
    }

    #[test]
    fn base64_without_its_padding_keeps_its_last_bytes() {
        // "hello world." is aGVsbG8gd29ybGQu; "hi." is aGku; "end。" is ZW5k44CC.
        for (body, want) in [
            ("aGVsbG8gd29ybGQuCg", "hello world.\n"),
            ("ZW5k44CCCg", "end。\n"),
            ("aGkuIQ", "hi.!"),
        ] {
            let msg = format!(
                "Subject: t\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
            );
            assert_eq!(full(msg.as_bytes()).text.as_deref(), Some(want), "{body}");
        }
        let msg = concat!(
            "Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n",
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f.bin\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ\r\n--b--\r\n"
        );
        let parts = attachment_contents(msg.as_bytes());
        assert_eq!(parts[0].1, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_last_header_without_newline_is_kept() {
        let e = full(b"From: a@example.org\r\nSubject: the last line").envelope;
        assert_eq!(e.subject.as_deref(), Some("the last line"));
    }

    #[test]
    fn addresses_lose_their_source_route_and_keep_a_comment_as_the_name() {
        let e = full(b"From: <@a.example,@b.example:user@c.example>\r\nTo: bob@example.org (Bob Smith)\r\n\r\nx").envelope;
        assert_eq!(e.from[0].address.as_deref(), Some("user@c.example"));
        assert_eq!(e.to[0].address.as_deref(), Some("bob@example.org"));
        assert_eq!(e.to[0].name.as_deref(), Some("Bob Smith"));
    }

    #[test]
    fn two_addresses_without_a_comma_stay_two() {
        let msg = b"From: Bob <bob@x.example> Bobby <bobby@x.example>\r\nTo: a@x.example b@x.example\r\n\r\nx";
        for e in [full(msg).envelope, summary(msg)] {
            let from: Vec<_> = e.from.iter().map(|p| p.address.as_deref()).collect();
            assert_eq!(from, [Some("bob@x.example"), Some("bobby@x.example")]);
            assert_eq!(e.from[1].name.as_deref(), Some("Bobby"));
            let to: Vec<_> = e.to.iter().map(|p| p.address.as_deref()).collect();
            assert_eq!(to, [Some("a@x.example"), Some("b@x.example")]);
        }
    }

    #[test]
    fn obsolete_dates_are_read_as_rfc_5322_says() {
        for (raw, want) in [
            ("Wed, 20 Dec 95 19:59 CST", "1995-12-20T19:59:00-06:00"),
            ("Tue, 029 Apr 2019 10:00:00 +0000", "2019-04-29T10:00:00Z"),
            (
                "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600",
                "1997-11-21T09:55:06-06:00",
            ),
            (
                "Mon, 30 Nov 2026 09:15:00 +0800",
                "2026-11-30T09:15:00+08:00",
            ),
        ] {
            let msg = format!("Date: {raw}\r\nSubject: s\r\n\r\nx");
            for e in [full(msg.as_bytes()).envelope, summary(msg.as_bytes())] {
                assert_eq!(e.date.as_deref(), Some(want), "{raw}");
                assert_eq!(e.subject.as_deref(), Some("s"), "{raw}");
            }
        }
    }

    #[test]
    fn an_encoded_word_split_inside_a_character_is_joined_to_the_next() {
        // 周报 is E5 91 A8 E6 8A A5: the first word ends after E5 91.
        for subject in [
            "=?utf-8?B?5ZE=?=\r\n =?utf-8?B?qOaKpQ==?=",
            "=?UTF-8?Q?=E5=91?= =?UTF-8?Q?=A8=E6=8A=A5?=",
        ] {
            let msg = format!("Subject: {subject}\r\nFrom: a@example.org\r\n\r\nx");
            let e = full(msg.as_bytes()).envelope;
            assert_eq!(e.subject.as_deref(), Some("周报"), "{subject}");
            assert_eq!(e.from[0].address.as_deref(), Some("a@example.org"));
        }
    }

    #[test]
    fn text_right_after_an_encoded_word_gains_no_space() {
        for (subject, want) in [
            ("=?utf-8?Q?hello?=.", "hello."),
            ("=?utf-8?B?5ZGo5oql?=, ok", "周报, ok"),
            ("Re: =?utf-8?Q?caf=C3=A9?=! open", "Re: café! open"),
            ("=?utf-8?Q?a?= b", "a b"),
        ] {
            let msg = format!("Subject: {subject}\r\n\r\nx");
            assert_eq!(
                full(msg.as_bytes()).envelope.subject.as_deref(),
                Some(want),
                "{subject}"
            );
        }
    }

    fn listed(e: &Envelope) -> Vec<(Option<String>, String)> {
        e.attachments
            .iter()
            .map(|a| (a.filename.clone(), a.content_type.clone()))
            .collect()
    }

    #[test]
    fn an_inline_part_with_a_file_name_is_an_attachment() {
        let msg = concat!(
            "Subject: patch\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nthe fix attached\r\n",
            "--b\r\nContent-Type: text/x-diff\r\nContent-Disposition: inline; filename=\"x.patch\"\r\n\r\n",
            "-old\r\n+new\r\n",
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"notes.txt\"\r\n\r\n",
            "a note\r\n--b--\r\n"
        );
        let f = full(msg.as_bytes());
        assert_eq!(f.text.as_deref(), Some("the fix attached"));
        let want = [
            (Some("x.patch".to_string()), "text/x-diff".to_string()),
            (Some("notes.txt".to_string()), "text/plain".to_string()),
        ];
        assert_eq!(listed(&f.envelope), want);
        assert_eq!(listed(&summary(msg.as_bytes())), want);
        let saved = attachment_contents(msg.as_bytes());
        assert_eq!(saved[0].1, b"-old\r\n+new");
        assert_eq!(saved[1].1, b"a note");
    }

    #[test]
    fn a_single_part_that_is_not_text_is_an_attachment() {
        let msg = concat!(
            "Subject: report\r\nMIME-Version: 1.0\r\nContent-Type: application/txt; name=\"report.txt\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"
        );
        let f = full(msg.as_bytes());
        assert_eq!(f.text, None);
        let want = [(
            Some("report.txt".to_string()),
            "application/txt".to_string(),
        )];
        assert_eq!(listed(&f.envelope), want);
        assert_eq!(listed(&summary(msg.as_bytes())), want);
        assert_eq!(attachment_contents(msg.as_bytes())[0].1, b"hello");
    }

    #[test]
    fn the_other_form_of_an_alternative_is_body_not_attachment() {
        let msg = concat!(
            "Subject: alt\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n",
            "--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n",
            "--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n",
            "--a\r\nContent-Type: multipart/related; boundary=r\r\n\r\n",
            "--r\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n",
            "--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n\r\nPNG\r\n--r--\r\n--a--\r\n",
            "--m\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=page.html\r\n\r\n<p>x</p>\r\n",
            "--m--\r\n"
        );
        let f = full(msg.as_bytes());
        assert_eq!(f.text.as_deref(), Some("plain"));
        assert_eq!(f.html.as_deref(), Some("<p>html</p>"));
        let want = [
            (None, "image/png".to_string()),
            (Some("page.html".to_string()), "text/html".to_string()),
        ];
        assert_eq!(listed(&f.envelope), want);
        assert_eq!(listed(&summary(msg.as_bytes())), want);
    }
}
