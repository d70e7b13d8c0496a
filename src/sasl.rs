//! SASL with bearer tokens, the same on SMTP, IMAP and POP3: Google's XOAUTH2 and
//! OAUTHBEARER (RFC 7628). Each protocol carries the bytes its own way; what the bytes
//! are, and what a refusal says, is here.

use base64::Engine;

use crate::config::{Auth, Server, Token};

/// A mechanism that logs in with a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Xoauth2,
    Oauthbearer,
}

impl Mechanism {
    /// The mechanism an account's `auth` names, if it is a bearer-token one.
    pub fn of(auth: Auth) -> Option<Mechanism> {
        match auth {
            Auth::Password => None,
            Auth::Xoauth2 => Some(Mechanism::Xoauth2),
            Auth::Oauthbearer => Some(Mechanism::Oauthbearer),
        }
    }

    /// The name protocols use (`AUTH XOAUTH2`, `AUTHENTICATE OAUTHBEARER`).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::Oauthbearer => "OAUTHBEARER",
        }
    }

    /// The client's first message, before base64. OAUTHBEARER names the server it is
    /// for (RFC 7628 section 3.1); its GS2 header escapes `,` and `=` in the user name.
    pub fn initial_response(self, user: &str, token: &str, host: &str, port: u16) -> String {
        match self {
            Mechanism::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            Mechanism::Oauthbearer => {
                let user = user.replace('=', "=3D").replace(',', "=2C");
                format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
            }
        }
    }

    /// The first message for `server`, with `token`, before base64.
    pub fn first_message(self, server: &Server, token: &Token) -> String {
        let token = token.access.expose();
        self.initial_response(&server.user, token, &server.host, server.port)
    }

    /// What the client answers to the server's error challenge, so that the server
    /// sends its final refusal: nothing for XOAUTH2, `%x01` for OAUTHBEARER.
    pub fn failure_answer(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "",
            Mechanism::Oauthbearer => "\x01",
        }
    }
}

/// base64, as every protocol carries SASL messages.
pub fn encode(message: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(message)
}

/// The server's reason from its error challenge (base64 of JSON such as
/// `{"status":"401","schemes":"bearer","scope":"mail"}`), for the user to read.
pub fn refusal_reason(challenge: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(challenge.trim())
        .unwrap_or_default();
    refusal_reason_of_json(&bytes)
}

/// [`refusal_reason`] of a challenge already decoded from base64 (async-imap decodes it).
pub fn refusal_reason_of_json(bytes: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return String::new();
    };
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut parts = Vec::new();
    if let Some(status) = field("status") {
        parts.push(format!("status {status}"));
    }
    if let Some(scope) = field("scope") {
        parts.push(format!("scope {scope}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_follow_each_mechanism() {
        assert_eq!(
            Mechanism::Xoauth2.initial_response("a@b.c", "T", "h", 1),
            "user=a@b.c\x01auth=Bearer T\x01\x01"
        );
        assert_eq!(
            Mechanism::Oauthbearer.initial_response("a,b=c@d", "T", "imap.d", 993),
            "n,a=a=2Cb=3Dc@d,\x01host=imap.d\x01port=993\x01auth=Bearer T\x01\x01"
        );
    }

    #[test]
    fn a_refusal_challenge_gives_the_status_and_scope() {
        let challenge = encode(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#);
        assert_eq!(refusal_reason(&challenge), "status 401, scope mail");
        assert_eq!(refusal_reason("not base64!"), "");
    }
}
