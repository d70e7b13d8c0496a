//! A mailbox as a session opens it: how (EXAMINE or SELECT), and what the server said
//! of it.

/// The state of a selected mailbox.
#[derive(Debug, Clone, Copy)]
pub struct MailboxInfo {
    pub uidvalidity: u32,
    pub exists: u32,
    pub uid_next: Option<u32>,
}

/// Whether a selected mailbox may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// EXAMINE: guarantees nothing on the server changes, not even `\Recent`.
    ReadOnly,
    /// SELECT: needed to set flags.
    ReadWrite,
}

/// What a mailbox is for, as the server marks it (RFC 6154 special use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    Trash,
    Sent,
    Drafts,
    Archive,
    Junk,
    All,
    Flagged,
}
