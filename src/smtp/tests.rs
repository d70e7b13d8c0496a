//! The exit code and retry decision of each kind of SMTP failure.

use super::*;
use crate::error::Exit;
use crate::net;

fn rejected(step: Step, code: u16) -> Error {
    Error::Rejected {
        addr: "smtp.example.org:465".into(),
        step,
        code: Code(code),
        text: "no".into(),
    }
}

#[test]
fn a_4xx_at_any_step_is_temporary() {
    let e = rejected(Step::Data, 450);
    assert!(e.is_temporary());
    assert_eq!(e.exit(), Exit::TempFail);
    assert_eq!(
        e.to_string(),
        "smtp.example.org:465: DATA: the server replied 450 no"
    );
}

#[test]
fn a_5xx_names_the_input_at_rcpt_and_data_and_the_server_elsewhere() {
    let bob: lettre::Address = "bob@example.org".parse().unwrap();
    let at_rcpt = rejected(Step::RcptTo(bob), 550);
    assert_eq!(
        (at_rcpt.exit(), at_rcpt.is_temporary()),
        (Exit::Data, false)
    );
    assert!(at_rcpt.to_string().contains("RCPT TO <bob@example.org>"));
    let at_data = rejected(Step::Data, 550);
    assert_eq!(at_data.exit(), Exit::Data);
    let at_mail = rejected(Step::MailFrom, 550);
    assert_eq!(at_mail.exit(), Exit::Unavailable);
}

#[test]
fn connections_and_logins() {
    let refused = Error::Net(net::Error::Connect {
        addr: "a:1".into(),
        reason: "Connection refused".into(),
        temporary: true,
    });
    assert_eq!(
        (refused.exit(), refused.is_temporary()),
        (Exit::TempFail, true)
    );
    let tls = Error::Net(net::Error::Tls {
        addr: "a:1".into(),
        reason: "bad certificate".into(),
    });
    assert_eq!((tls.exit(), tls.is_temporary()), (Exit::Unavailable, false));
    let login = Error::AuthRefused(net::LoginRefused {
        addr: "a:1".into(),
        user: "alice".into(),
        reply: "535 no".into(),
    });
    assert_eq!((login.exit(), login.is_temporary()), (Exit::NoPerm, false));
    let silent = Error::Timeout {
        addr: "a:1".into(),
        step: Step::Greeting,
        secs: 5,
        hint: "",
    };
    assert_eq!(
        (silent.exit(), silent.is_temporary()),
        (Exit::TempFail, true)
    );
}
