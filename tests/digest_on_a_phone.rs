//! The digest's HTML as a reader sees it: rendered by headless Chromium (Debian's
//! `chromium`, with `fonts-noto-cjk` for the Chinese) at a phone's 360 px and a
//! desktop's 1000 px, in light and dark mode, it never scrolls sideways, and a thread
//! or a sender with several messages is one group with its count.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Account, stack};

/// A digest of a thread of three, two from one sender, and a message with a long
/// address and a long unbroken line, as the HTML part of the mail it sends.
fn digest_html() -> String {
    let stack = stack();
    let long = "https://example.test/".to_string() + &"a".repeat(300);
    let messages = [
        "Subject: 季度报告：请审阅\r\nFrom: 张伟 <zhang@example.test>\r\n\r\n第一季度的报告在附件里，请在周五之前审阅并回复意见。\r\n".to_string(),
        "Subject: Re: 季度报告：请审阅\r\nFrom: Li <li@example.test>\r\n\r\nLooks good.\r\n".to_string(),
        "Subject: 回复：季度报告：请审阅\r\nFrom: Wang <wang@example.test>\r\n\r\n同意。\r\n".to_string(),
        "Subject: build 1 failed\r\nFrom: ci@example.test\r\n\r\nsee the log\r\n".to_string(),
        "Subject: build 2 passed\r\nFrom: ci@example.test\r\n\r\nall green\r\n".to_string(),
        format!("Subject: {}\r\nFrom: someone.with.a.very.long.address.indeed@subdomain.example.test\r\n\r\n{long}\r\n", "long".repeat(40)),
    ];
    let messages: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    stack.deliver("bob", "Phone", &messages);
    let setup = Account::new("bob")
        .imap(stack, "IMAPS_PORT")
        .smtp(stack, "SUBMISSIONS_PORT")
        .build();
    let args = ["digest", "--to", "alice@example.test", "-m", "Phone"];
    setup
        .mailer(&[&args[..], &["--subject", "phone-digest"]].concat())
        .ok();
    stack.wait_for_count("alice", "phone-digest", 1);
    let mail = common::message_files(&stack.maildir("alice"))
        .into_iter()
        .find(|m| common::contains(m, b"phone-digest"))
        .unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&mail).unwrap();
    parsed.body_html(0).unwrap().into_owned()
}

/// The document's scroll width, the width it has to show it in (the viewport less a
/// vertical scroll bar), the viewport's, and the page's background colour, the digest
/// rendered in a frame
/// `width` px wide (headless Chromium's window is at least 500 px wide, so a phone's
/// screen is a frame of a phone's width).
fn widths(html: &str, dir: &Path, width: u32, dark: bool) -> (u32, u32, u32, String) {
    // The digest as a JavaScript string (JSON is one), kept from closing the script.
    let srcdoc = serde_json::to_string(html).unwrap().replace("</", "<\\/");
    let host = format!(
        r#"<!DOCTYPE html><html><body style="margin:0"><script>
        const f = document.createElement('iframe');
        f.style = 'width:{width}px;height:900px;border:0;display:block';
        f.onload = () => document.body.setAttribute('data-fit',
            [f.contentDocument.documentElement.scrollWidth,
             f.contentDocument.documentElement.clientWidth,
             f.contentWindow.innerWidth].join(' ') + '|' +
            getComputedStyle(f.contentDocument.body).backgroundColor);
        f.srcdoc = {srcdoc};
        document.body.appendChild(f);
        </script></body></html>"#
    );
    let page = dir.join(format!("digest-{width}-{dark}.html"));
    std::fs::write(&page, host).unwrap();
    let mut chromium = Command::new("timeout");
    chromium.args([
        "60",
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
    ]);
    chromium.arg("--window-size=1200,1000");
    chromium.arg(format!("--user-data-dir={}", dir.join("profile").display()));
    if dark {
        chromium
            .arg("--force-dark-mode")
            .arg("--blink-settings=preferredColorScheme=0");
    }
    let out = chromium
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running chromium: install Debian's chromium package (tests/run.sh does)");
    let dom = String::from_utf8_lossy(&out.stdout);
    let fit = dom
        .split("data-fit=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| {
            panic!(
                "chromium rendered nothing: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let (numbers, background) = fit.split_once('|').unwrap();
    let n: Vec<u32> = numbers.split(' ').map(|w| w.parse().unwrap()).collect();
    (n[0], n[1], n[2], background.to_string())
}

#[test]
fn the_digest_reads_on_a_phone_and_a_desktop_without_sideways_scrolling() {
    let html = digest_html();
    assert!(html.contains("name=\"viewport\""), "{html}");
    assert!(html.contains("prefers-color-scheme:dark"), "{html}");
    // The thread of three and the sender of two are groups with their count.
    assert!(html.contains("季度报告：请审阅 (3)"), "{html}");
    assert!(html.contains("ci@example.test (2)"), "{html}");
    let dir = tempfile::tempdir().unwrap();
    for width in [360, 1000] {
        for dark in [false, true] {
            let (scroll, shown, viewport, background) = widths(&html, dir.path(), width, dark);
            let expected = if dark {
                "rgb(18, 18, 18)"
            } else {
                "rgb(255, 255, 255)"
            };
            assert_eq!(background, expected, "dark: {dark}");
            assert_eq!(viewport, width, "the frame is {width} px wide");
            assert!(shown + 20 >= width, "only {shown} px of {width} used");
            let sideways = format!("at {width} px (dark: {dark}) the digest scrolls sideways");
            assert_eq!(scroll, shown, "{sideways}");
        }
    }
}
