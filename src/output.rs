//! What commands print: plain lines for people, JSON for scripts.

use std::io::Write;

use crate::commands::send::SendReport;

/// `send`: the Message-ID (or, for `--dry-run`, the exact bytes that would be sent).
pub fn send_report(report: &SendReport, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "message_id": report.message.message_id,
            "recipients": report.message.recipients.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "sent": !report.dry_run,
            "message": report.dry_run.then(|| String::from_utf8_lossy(&report.message.bytes).into_owned()),
        });
        let _ = writeln!(out, "{value}");
    } else if report.dry_run {
        let _ = out.write_all(&report.message.bytes);
    } else {
        let _ = writeln!(out, "{}", report.message.message_id);
    }
}
