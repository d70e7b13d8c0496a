use super::*;

fn own() -> Address {
    "me@example.org".parse().unwrap()
}

fn emails(list: &[Mailbox]) -> Vec<String> {
    list.iter().map(|m| m.email.to_string()).collect()
}

const ORIGINAL: &[u8] = b"From: Ann Lee <ann@example.org>\r\n\
Reply-To: list@example.org\r\n\
To: me@example.org, bob@example.org\r\n\
Cc: Carol <carol@example.org>, ME@example.org\r\n\
Subject: Re: AW: =?UTF-8?B?5Zue5aSN77ya?= plans\r\n\
Date: Tue, 01 Dec 2026 09:15:00 +0000\r\n\
Message-ID: <three@example.org>\r\n\
In-Reply-To: <two@example.org>\r\n\
References: <one@example.org> <two@example.org>\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gr=FC=DFe,\r\n\
\r\n\
> earlier\r\n\
the plan\r\n";

#[test]
fn a_reply_goes_to_reply_to_and_threads() {
    let answer = Answer {
        text: "Agreed.".into(),
        ..Answer::default()
    };
    let d = reply(ORIGINAL, &own(), answer);
    assert_eq!(emails(&d.to), ["list@example.org"]);
    assert!(d.cc.is_empty());
    assert_eq!(d.subject.as_deref(), Some("Re: plans"));
    assert_eq!(
        d.headers,
        [
            ("In-Reply-To".to_string(), "<three@example.org>".to_string()),
            (
                "References".to_string(),
                "<one@example.org> <two@example.org> <three@example.org>".to_string()
            ),
        ]
    );
    assert!(d.text.starts_with("Agreed.\n\nOn "), "{}", d.text);
    let quote = ", Ann Lee wrote:\n> Grüße,\n>\n>> earlier\n> the plan\n";
    assert!(d.text.contains(quote), "{}", d.text);
}

#[test]
fn reply_all_adds_to_and_cc_without_the_account_itself() {
    let all = || Answer {
        all: true,
        ..Answer::default()
    };
    let d = reply(ORIGINAL, &own(), all());
    assert_eq!(emails(&d.to), ["list@example.org"]);
    assert_eq!(emails(&d.cc), ["bob@example.org", "carol@example.org"]);
    let followup = [
        b"Mail-Followup-To: list@example.org, dev@example.org\r\n".as_slice(),
        ORIGINAL,
    ]
    .concat();
    let d = reply(&followup, &own(), all());
    assert_eq!(emails(&d.to), ["list@example.org", "dev@example.org"]);
    assert!(d.cc.is_empty());
}

#[test]
fn a_reply_to_ones_own_message_goes_to_its_recipients() {
    let mine = b"From: me@example.org\r\nTo: bob@example.org\r\nSubject: hi\r\nMessage-ID: <m@x>\r\n\r\nhi\r\n";
    let d = reply(mine, &own(), Answer::default());
    assert_eq!(emails(&d.to), ["bob@example.org"]);
    assert_eq!(d.headers[1].1, "<m@x>");
}

#[test]
fn prefixes_do_not_stack() {
    for (subject, base) in [
        ("Re: Re: RE: x", "x"),
        ("AW: SV: Fwd: x", "x"),
        ("回复：答复: x", "x"),
        ("Re[2]: x", "x"),
        ("Regarding the plan", "Regarding the plan"),
        ("Re:", ""),
    ] {
        assert_eq!(strip_prefixes(subject), base, "{subject}");
    }
}

#[test]
fn references_keep_the_root_and_the_newest() {
    let refs: String = (0..30).map(|i| format!("<r{i}@x> ")).collect();
    let original = format!("From: a@x\r\nMessage-ID: <new@x>\r\nReferences: {refs}\r\n\r\nx\r\n");
    let d = reply(original.as_bytes(), &own(), Answer::default());
    let kept: Vec<&str> = d.headers[1].1.split(' ').collect();
    assert_eq!(kept.len(), MOST_REFERENCES);
    assert_eq!(kept[0], "<r0@x>");
    assert_eq!(kept[MOST_REFERENCES - 1], "<new@x>");
    assert_eq!(kept[MOST_REFERENCES - 2], "<r29@x>");
}

#[test]
fn a_forward_keeps_the_text_and_attachments_or_attaches_the_whole() {
    let d = forward(ORIGINAL, "FYI".into(), false);
    assert_eq!(d.subject.as_deref(), Some("Fwd: plans"));
    let head = "FYI\n\n---------- Forwarded message ----------\nFrom: Ann Lee <ann@example.org>\n";
    assert!(d.text.starts_with(head), "{}", d.text);
    assert!(d.text.contains("Grüße"));
    let d = forward(ORIGINAL, String::new(), true);
    assert_eq!(d.attachments.len(), 1);
    assert_eq!(d.attachments[0].content_type, "message/rfc822");
    assert_eq!(d.attachments[0].data, ORIGINAL);
    assert_eq!(d.attachments[0].filename, "Re_ AW_ 回复_ plans.eml");
}
