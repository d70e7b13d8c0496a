//! `mailer config check`: every problem of the config file at once.

use clap::{Args, Subcommand};

use crate::error::{Exit, Failure};

/// Look at the config file
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Report every problem of the file at once, each with its line and column (other
    /// commands stop at the first); exits 78 when there is one
    Check,
}

impl ConfigArgs {
    pub fn run(&self, ctx: &super::context::Context) -> Result<(), Failure> {
        let Action::Check = self.action;
        let (path, problems) = crate::config::Config::problems(ctx.config.as_deref())?;
        for problem in &problems {
            println!("{}", crate::output::printable(problem, false));
        }
        match problems.len() {
            0 => {
                println!("{}: no problems", path.display());
                Ok(())
            }
            n => Err(Failure::new(
                Exit::Config,
                format!("{}: {n} problem(s), listed above", path.display()),
            )),
        }
    }
}
