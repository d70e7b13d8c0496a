//! IMAP: connect (implicit TLS or STARTTLS), log in, and the operations mailer needs,
//! each bounded by the server's timeout and mapped to an error that names its step.
//!
//! async-imap does the wire work; this module hides its types behind plain ones, and
//! its command strings behind typed operations, so that commands never see protocol
//! bytes.
//!
//! - `session`: connecting, logging in, identifying, logging out.
//! - `operations`: what commands ask of a session (select, search, fetch, flags, list).
//! - `fetched`: a fetched message and the attachments its BODYSTRUCTURE names.
//! - `uids`: UID sets and SEARCH queries.
//! - `changes`: copy, move, expunge by UID; create, rename, delete mailboxes.
//! - `watch`: IDLE, renewed, or NOOP.
//! - `search`: a query of `mailer search` compiled to one UID SEARCH.
//! - `error`: errors with the server's own words, taken from its reply by `tap`.

mod ahead;
mod changes;
mod error;
mod fetched;
mod mailbox_state;
mod operations;
mod pipelined;
mod search;
mod session;
mod tap;
mod uids;
mod utf7;
mod watch;

pub use ahead::{Ahead, Expected};
pub use changes::{MailboxChange, MoveKind};
pub use error::Error;
pub use fetched::Fetched;
pub use mailbox_state::{Access, MailboxInfo, SpecialUse};
pub use operations::{ListedMailbox, PIECE};
pub use search::{Unsupported, criteria_ahead};
pub use session::Session;
pub use uids::{Query, UidSet};
pub use utf7::{decode as decode_mailbox_name, encode as encode_mailbox_name};
pub use watch::Woke;
