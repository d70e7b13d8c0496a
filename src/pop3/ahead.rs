//! RETR and DELE sent ahead of their replies where the server lists PIPELINING (RFC
//! 2449 6.6), so that a download waits for the network once per window rather than
//! once per message, and the window is as large as a fast link with a long round trip
//! needs. What is in flight waits in the server's socket buffers, not in mailer's
//! memory: each reply is read whole before the next.

use super::{Error, Retrievals, Session};

/// RETRs run ahead of their replies by at most this many bytes of messages, by LIST's
/// sizes: a link's bandwidth times its round trip (16 MB keeps 320 MB/s busy at 50 ms).
const AHEAD_BYTES: u64 = 16 << 20;

/// Commands in flight at once, at most: about 13 KB of them, which the server's socket
/// buffer holds while it is busy answering and not reading (more could leave both
/// sides writing, neither reading).
const AHEAD_COMMANDS: usize = 1000;

impl Retrievals {
    /// Messages `wanted`: each one's number and its size by LIST (0 where not known).
    pub fn new(wanted: Vec<(u32, u64)>) -> Retrievals {
        Retrievals {
            wanted,
            sent: 0,
            read: 0,
            ahead_bytes: 0,
        }
    }

    /// The RETRs to send now: none while half a window is still in flight, then as
    /// many as fill it (one write for many, rather than one per message read); one at
    /// a time without PIPELINING.
    fn refill(&mut self, pipelining: bool) -> Vec<u32> {
        let in_flight = self.sent - self.read;
        let low = in_flight <= AHEAD_COMMANDS / 2 && self.ahead_bytes <= AHEAD_BYTES / 2;
        if in_flight > 0 && !(pipelining && low) {
            return Vec::new();
        }
        let mut batch = Vec::new();
        while let Some(&(n, size)) = self.wanted.get(self.sent) {
            let in_flight = self.sent - self.read;
            let full = in_flight >= AHEAD_COMMANDS || self.ahead_bytes >= AHEAD_BYTES;
            if in_flight > 0 && (!pipelining || full) {
                break;
            }
            batch.push(n);
            self.ahead_bytes = self.ahead_bytes.saturating_add(size);
            self.sent += 1;
        }
        batch
    }
}

impl Session {
    /// The next message of `plan`, read into `out`; its number, or None once all came.
    /// The RETRs for those after it leave together, as far ahead as PIPELINING allows.
    pub async fn next_retr(
        &mut self,
        plan: &mut Retrievals,
        out: &mut Vec<u8>,
    ) -> Result<Option<u32>, Error> {
        let Some(&(n, size)) = plan.wanted.get(plan.read) else {
            return Ok(None);
        };
        let batch = plan.refill(self.caps.pipelining);
        if !batch.is_empty() {
            self.send_each("RETR", &batch, "").await?;
        }
        self.read_retr(out).await?;
        plan.read += 1;
        plan.ahead_bytes = plan.ahead_bytes.saturating_sub(size);
        Ok(Some(n))
    }

    /// Marks messages `ns` for deletion, which the server carries out only at a QUIT
    /// that succeeds: with PIPELINING, up to [`AHEAD_COMMANDS`] DELEs in one write and
    /// their replies read after it; else one at a time. The first refusal ends it.
    pub async fn dele_all(&mut self, ns: &[u32]) -> Result<(), Error> {
        let at_once = if self.caps.pipelining {
            AHEAD_COMMANDS
        } else {
            1
        };
        for chunk in ns.chunks(at_once) {
            self.send_each("DELE", chunk, "").await?;
            for _ in chunk {
                self.status("DELE").await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent_in_turn(plan: &mut Retrievals, pipelining: bool) -> Vec<usize> {
        let mut writes = Vec::new();
        while plan.read < plan.wanted.len() {
            let batch = plan.refill(pipelining);
            if !batch.is_empty() {
                writes.push(batch.len());
            }
            let size = plan.wanted[plan.read].1;
            plan.read += 1;
            plan.ahead_bytes -= size;
        }
        writes
    }

    #[test]
    fn small_messages_all_leave_in_the_first_write_up_to_the_command_limit() {
        let wanted = (1..=2500).map(|n| (n, 5_000)).collect();
        let writes = sent_in_turn(&mut Retrievals::new(wanted), true);
        assert_eq!(writes[0], AHEAD_COMMANDS);
        assert_eq!(writes.iter().sum::<usize>(), 2500);
        // Refilled once half the window came, not once per message.
        assert!(writes.len() <= 6, "{writes:?}");
    }

    #[test]
    fn large_messages_fill_the_window_by_their_sizes() {
        let wanted = (1..=100).map(|n| (n, 4 << 20)).collect();
        let writes = sent_in_turn(&mut Retrievals::new(wanted), true);
        assert_eq!(writes[0], 4);
        assert_eq!(writes.iter().sum::<usize>(), 100);
    }

    #[test]
    fn a_message_larger_than_the_window_still_goes_alone() {
        let wanted = vec![(1, 100 << 20), (2, 10), (3, 100 << 20)];
        let writes = sent_in_turn(&mut Retrievals::new(wanted), true);
        assert_eq!(writes, vec![1, 2]);
    }

    #[test]
    fn without_pipelining_one_at_a_time() {
        let wanted = (1..=5).map(|n| (n, 10)).collect();
        let writes = sent_in_turn(&mut Retrievals::new(wanted), false);
        assert_eq!(writes, vec![1; 5]);
    }
}
