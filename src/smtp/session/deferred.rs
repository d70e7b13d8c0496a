//! A login that goes with the first transaction (`send`): `AUTH PLAIN` and its
//! credentials lead the write of MAIL FROM, RCPT TO and the message, and its reply is
//! read first. RFC 4954 section 4 allows it for a mechanism that finishes in one step
//! with its initial response and sets up no security layer, as PLAIN does; Postfix and
//! Exim take it.
//!
//! What a refused login means then: the server answered the transaction too, as a
//! client that had not logged in. Its refusal (or a connection it closed) is told as
//! the refused login, which is what the user must fix. A server that took the message
//! all the same delivered it: that is a sent message, with a warning.

use super::{Error, Login, Reply, Session, Step};
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

    /// A kept login sent now, on its own: for a use of the session other than one
    /// pipelined transaction. An earlier refusal is told again.
    pub(super) async fn log_in_now(&mut self) -> Result<(), Error> {
        if let Login::Refused(refused) = &self.login {
            return Err(Error::AuthRefused(refused.clone()));
        }
        let Some((command, user)) = self.take_deferred() else {
            return Ok(());
        };
        let reply = self
            .exchange(Step::Auth, command.expose().as_bytes())
            .await?;
        let outcome = self.login_outcome(&user, &reply);
        self.note_login(&outcome);
        outcome
    }

    /// The reply to a login sent ahead of a transaction. A challenge (334) means the
    /// server took the lines after AUTH for the mechanism's answer: nothing after it
    /// is in step.
    pub(super) async fn read_deferred(&mut self, user: &str) -> Result<Result<(), Error>, Error> {
        let reply: Reply = self.read(Step::Auth).await?;
        if reply.code == 334 {
            self.broken = true;
            return Err(self.rejected(Step::Auth, &reply));
        }
        let outcome = self.login_outcome(user, &reply);
        self.note_login(&outcome);
        Ok(outcome)
    }

    /// A refused login is kept, so that the session sends nothing more; any other
    /// failure leaves the session out of use.
    fn note_login(&mut self, outcome: &Result<(), Error>) {
        match outcome {
            Ok(()) => {}
            Err(Error::AuthRefused(refused)) => self.login = Login::Refused(refused.clone()),
            Err(_) => self.broken = true,
        }
    }

    /// A transaction's result, given how the login sent with it went.
    pub(super) fn after_login(
        &self,
        login: Option<Result<(), Error>>,
        transaction: Result<(), Error>,
    ) -> Result<(), Error> {
        match (login, transaction) {
            (None | Some(Ok(())), transaction) => transaction,
            (Some(Err(refused)), Ok(())) => {
                tracing::warn!("{refused}; the server took the message all the same");
                Ok(())
            }
            (Some(Err(refused)), Err(_)) => Err(refused),
        }
    }
}
