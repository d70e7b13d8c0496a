//! `mailer check`: test an account's servers step by step.

use std::path::Path;

use clap::Args;

use crate::commands::check;
use crate::error::{Exit, Failure};

/// Test the account's servers step by step: resolve, connect, TLS, greeting, STARTTLS,
/// auth, a harmless operation
///
/// Each step is printed with its time, and with a hint when it fails. Exits 0 when
/// everything works, else with the exit code of the first failed step.
#[derive(Debug, Args)]
pub struct CheckArgs {}

impl CheckArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let steps = ctx.on_account(async |a| check::check(a).await)?;
        finish(&steps, ctx.json)
    }
}

/// Checks the account just written to the config at `path`.
pub fn run_for(
    ctx: &super::context::Context,
    path: &Path,
    name: &str,
    dns_server: Option<std::net::SocketAddr>,
) -> Result<(), Failure> {
    let config = crate::config::Config::load(Some(path))?;
    let account = config.account(Some(name))?.clone();
    let steps = ctx.block_on(async {
        let dns = match dns_server {
            Some(addr) => Some(
                crate::dns::Dns::new(Some(addr))
                    .map_err(|e| Failure::new(Exit::Config, format!("DNS server {addr}: {e}")))?,
            ),
            None => None,
        };
        check::check_with(&account, dns.as_ref()).await
    })??;
    finish(&steps, ctx.json)
}

fn finish(steps: &[check::Step], json: bool) -> Result<(), Failure> {
    crate::output::check_steps(steps, json);
    let Some(failed) = steps.iter().find(|s| !s.ok) else {
        return Ok(());
    };
    let exit = check::exit_of(steps).unwrap_or(Exit::Software);
    Err(Failure::new(
        exit,
        format!("{} {}: {}", failed.server, failed.step, failed.detail),
    ))
}
