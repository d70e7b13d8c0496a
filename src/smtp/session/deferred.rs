//! A login that goes with the first transaction (`send`, `sendmail`, `digest`): `AUTH
//! PLAIN` and its credentials lead the write of MAIL FROM, RCPT TO and the message, and
//! its reply is read first. RFC 4954 section 4 allows it for a mechanism that finishes
//! in one step with its initial response and sets up no security layer, as PLAIN does;
//! Postfix and Exim take it (tested against both).
//!
//! What a refused login means then: the server answered the transaction too, as a
//! client that had not logged in. Its refusal is told as the refused login, which is
//! what the user must fix. A server that took the message all the same delivered it:
//! a sent message, with a warning. Where the reply to the message was lost, the server
//! may hold it, so it is kept to go again, as after any lost reply.

use super::{Error, Login, Pipelined, Session, Step};
use crate::config::Password;

impl Session {
    /// The login kept for the first transaction, taken to go with it.
    pub(super) fn take_deferred(&mut self) -> Option<(Password, String)> {
        match std::mem::replace(&mut self.login, Login::Done) {
            Login::Deferred { command, user } => Some((command, user)),
            other => {
                self.login = other;
                None
            }
        }
    }

    /// What a login that failed earlier in the session says to every later use of it.
    pub(super) fn failed_login(&self) -> Option<Error> {
        match &self.login {
            Login::Refused(refused) => Some(Error::AuthRefused(refused.clone())),
            Login::Failed { code, text } => Some(Error::Rejected {
                addr: self.addr.clone(),
                step: Step::Auth,
                code: *code,
                text: text.clone(),
            }),
            Login::Done | Login::Deferred { .. } => None,
        }
    }

    /// A kept login sent now, on its own (a server that answers it with a challenge
    /// gets the credentials again): for a use of the session other than one pipelined
    /// transaction. An earlier failure is told again.
    pub(super) async fn log_in_now(&mut self) -> Result<(), Error> {
        if let Some(failed) = self.failed_login() {
            return Err(failed);
        }
        let Some((command, user)) = self.take_deferred() else {
            return Ok(());
        };
        let reply = self.plain_with(&command).await?;
        let outcome = self.login_outcome(&user, &reply);
        self.note_login(&outcome);
        outcome
    }

    /// The rest of a transaction whose write began with the kept login (`sent`: how
    /// that write went): the login's reply, then the transaction's, and what the two
    /// make of the message.
    pub(super) async fn after_login(
        &mut self,
        user: &str,
        sent: Result<(), Error>,
        pipelined: Pipelined<'_>,
    ) -> Result<(), Error> {
        // A write that failed left no whole message with the server; a refusal of the
        // login read after it says more than the failure does.
        let login = match (self.read_deferred(user).await, sent) {
            (Ok(Err(refused)), Err(_)) => return Err(refused),
            (_, Err(e)) | (Err(e), Ok(())) => return Err(e),
            (Ok(login), Ok(())) => login,
        };
        let Err(refused) = login else {
            return self.envelope_replies(pipelined).await;
        };
        if !pipelined.with_data {
            // The message waits for its envelope: after a refused login it never goes.
            for (_, step) in &pipelined.commands {
                if self.read(step.clone()).await.is_err() {
                    break;
                }
            }
            return Err(refused);
        }
        match self.envelope_replies(pipelined).await {
            Ok(()) => {
                tracing::warn!("{refused}; the server took the message all the same");
                Ok(())
            }
            Err(
                e @ (Error::Broken {
                    step: Step::Data, ..
                }
                | Error::Timeout {
                    step: Step::Data, ..
                }),
            ) => Err(e),
            Err(_) => Err(refused),
        }
    }

    /// The reply to a login sent ahead of a transaction. A challenge (334) means the
    /// server took the lines after AUTH for the mechanism's answer: nothing after it is
    /// in step, and no transaction began, so the message can go again; the next
    /// session's login, on its own, answers the challenge.
    async fn read_deferred(&mut self, user: &str) -> Result<Result<(), Error>, Error> {
        let reply = self.read(Step::Auth).await?;
        if reply.code == 334 {
            self.broken = true;
            return Err(Error::Broken {
                addr: self.addr.clone(),
                step: Step::Auth,
                reason: "the server asked again for the credentials AUTH PLAIN had sent (334)"
                    .into(),
            });
        }
        let outcome = self.login_outcome(user, &reply);
        self.note_login(&outcome);
        Ok(outcome)
    }

    /// A failed login is kept, so that the session sends nothing more and says why.
    fn note_login(&mut self, outcome: &Result<(), Error>) {
        self.login = match outcome {
            Ok(()) => Login::Done,
            Err(Error::AuthRefused(refused)) => Login::Refused(refused.clone()),
            Err(Error::Rejected { code, text, .. }) => Login::Failed {
                code: *code,
                text: text.clone(),
            },
            Err(_) => {
                self.broken = true;
                Login::Done
            }
        };
    }
}
