//! One module per command: orchestration of the protocol, store and message modules.
//! Commands return reports; printing is `output`'s job.

pub mod fetch;
pub mod send;
