//! Several transactions back to back (RFC 2920 with RFC 3030), for `queue flush`: each
//! message's MAIL FROM, RCPT TO and `BDAT n LAST`, all the messages in one write, then
//! the replies read in order. Each message still has its own result, decided by its own
//! three replies, so the caller removes a queued file only after its own final reply.
//!
//! What it costs: when the connection is lost after the server took several messages
//! but before their replies came, each of those is sent again by the next flush (the
//! duplicate of RFC 1047, for every message of the write instead of one). Batches are
//! therefore small: a queue flush writes ten at most (`commands::deliver`).

use super::{Error, Session, Step};
use crate::message::Outgoing;

impl Session {
    /// Submits `messages` in order, each with its own result. Runs of messages with one
    /// recipient go back to back where the server offers PIPELINING and CHUNKING; any
    /// other message goes through [`Session::send`] on its own. A login kept for the
    /// first transaction goes on its own first. After a temporary failure or a refused
    /// login the results stop: the messages past them were not tried.
    pub async fn send_batch(&mut self, messages: &[&Outgoing]) -> Vec<Result<(), Error>> {
        if let Err(e) = self.log_in_now().await {
            // The rest untried: a refused login is the session's, not a message's.
            return vec![Err(e)];
        }
        let mut results = Vec::with_capacity(messages.len());
        let mut rest = messages;
        while !rest.is_empty() {
            let run = rest.iter().take_while(|m| self.batchable(m)).count().max(1);
            let done = match run {
                1 => vec![self.send(rest[0]).await],
                _ => self.back_to_back(&rest[..run]).await,
            };
            let stop = done
                .iter()
                .any(|r| r.as_ref().is_err_and(Error::ends_session));
            results.extend(done);
            rest = &rest[run..];
            if stop {
                break;
            }
        }
        results
    }

    /// A message with one recipient, to a server that takes a whole transaction in one
    /// write: with more recipients, the data waits until all are accepted.
    fn batchable(&self, message: &Outgoing) -> bool {
        message.recipients.len() == 1
            && self.offers.has("PIPELINING")
            && self.offers.has("CHUNKING")
    }

    /// One write of every transaction, then their replies.
    async fn back_to_back(&mut self, messages: &[&Outgoing]) -> Vec<Result<(), Error>> {
        if self.broken {
            return messages
                .iter()
                .map(|_| Err(self.out_of_step(Step::MailFrom)))
                .collect();
        }
        let mut results: Vec<Option<Result<(), Error>>> = Vec::new();
        let mut heads = Vec::new();
        for message in messages {
            match self.mail_parameters(message) {
                Ok(params) => {
                    heads.push(Some(transaction_head(message, &params)));
                    results.push(None);
                }
                Err(e) => {
                    heads.push(None);
                    results.push(Some(Err(e)));
                }
            }
        }
        let mut parts: Vec<&[u8]> = Vec::new();
        for (head, message) in heads.iter().zip(messages) {
            if let Some(head) = head {
                parts.extend([head.as_bytes(), &message.bytes[..]]);
            }
        }
        let budget = messages
            .iter()
            .map(|m| self.data_budget(m))
            .fold(self.timeout, |total, b| total + b);
        let sent = self.send_parts(Step::MailFrom, &parts, budget).await;
        let mut failure = sent.err();
        for (message, result) in messages.iter().zip(results.iter_mut()) {
            if result.is_some() {
                continue;
            }
            *result = Some(match failure.take() {
                Some(e) => Err(e),
                None if self.broken => Err(self.out_of_step(Step::Data)),
                None => self.replies(message).await,
            });
        }
        results.into_iter().flatten().collect()
    }

    /// The three replies of one transaction: its result is the first refusal among
    /// them, if any.
    async fn replies(&mut self, message: &Outgoing) -> Result<(), Error> {
        let rcpt = Step::RcptTo(message.recipients[0].clone());
        let mut refusal = None;
        for step in [Step::MailFrom, rcpt, Step::Data] {
            let reply = self.read(step.clone()).await?;
            if reply.code != 250 && refusal.is_none() {
                refusal = Some(self.rejected(step, &reply));
            }
        }
        match refusal {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// MAIL FROM, RCPT TO and the BDAT line that the message's bytes follow.
fn transaction_head(message: &Outgoing, params: &str) -> String {
    format!(
        "MAIL FROM:<{}>{params}\r\nRCPT TO:<{}>\r\nBDAT {} LAST\r\n",
        message.sender,
        message.recipients[0],
        message.bytes.len()
    )
}
