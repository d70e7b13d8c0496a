//! The milestones of opening a session (greeting, STARTTLS, login), so that `mailer
//! check` can time and show each one as a step of its own. Sessions report them
//! wherever they are opened; only a caller that asks, with [`recording`], keeps them,
//! so everywhere else a report costs a lookup and nothing more.

use std::cell::RefCell;
use std::time::Instant;

tokio::task_local! {
    static SEEN: RefCell<Vec<Milestone>>;
}

/// A step a session got through, when, and what it saw there.
#[derive(Debug, Clone)]
pub struct Milestone {
    pub step: &'static str,
    pub at: Instant,
    pub detail: String,
}

/// Reports that the session got through `step`; `detail` is only made when recorded.
/// A step reached again is a new connection (a login retried with a fresh token), which
/// supersedes what the first one reached.
pub fn reached(step: &'static str, detail: impl FnOnce() -> String) {
    let _ = SEEN.try_with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(i) = seen.iter().position(|m| m.step == step) {
            seen.truncate(i);
        }
        let at = Instant::now();
        seen.push(Milestone {
            step,
            at,
            detail: detail(),
        });
    });
}

/// Whether a caller is keeping milestones: a session records what it would otherwise
/// not keep (the server's whole EHLO reply) only then.
pub fn is_recording() -> bool {
    SEEN.try_with(|_| ()).is_ok()
}

/// Runs `work`, keeping the milestones it reports.
pub async fn recording<F: Future>(work: F) -> (F::Output, Vec<Milestone>) {
    SEEN.scope(RefCell::new(Vec::new()), async {
        let out = work.await;
        (out, SEEN.with(|seen| seen.take()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_what_was_reached_in_order_and_restarts_on_a_new_connection() {
        let ((), seen) = recording(async {
            reached("greeting", || "first".into());
            reached("greeting", || "second".into());
            reached("auth", || "in".into());
        })
        .await;
        let steps: Vec<_> = seen.iter().map(|m| (m.step, m.detail.as_str())).collect();
        assert_eq!(steps, [("greeting", "second"), ("auth", "in")]);
    }

    #[test]
    fn outside_a_recording_a_report_is_dropped() {
        reached("greeting", || panic!("the detail is not made"));
    }
}
