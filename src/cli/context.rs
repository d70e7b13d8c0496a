//! What every command may need from the global options: the config, the chosen
//! account, JSON output, and a runtime for its async work.

use std::path::PathBuf;

use crate::config::{Account, Config};
use crate::error::{Exit, Failure};

pub struct Context {
    pub config: Option<PathBuf>,
    pub account: Option<String>,
    pub json: bool,
    /// A person reads stdout: a header row, and a word where a script wants silence.
    pub people: bool,
}

impl Context {
    /// The config file, parsed.
    pub fn config(&self) -> Result<Config, Failure> {
        Ok(Config::load(self.config.as_deref())?)
    }

    /// The selected account, from the config file: resolved once, here.
    pub fn account(&self) -> Result<Account, Failure> {
        let config = self.config()?;
        Ok(config.account(self.account_name())?.clone())
    }

    /// The accounts a command about "all accounts unless -a" works on.
    pub fn accounts(&self) -> Result<Vec<Account>, Failure> {
        match self.account_name() {
            Some(_) => Ok(vec![self.account()?]),
            None => Ok(self.config()?.accounts().to_vec()),
        }
    }

    fn account_name(&self) -> Option<&str> {
        self.account.as_deref().filter(|a| !a.is_empty())
    }

    /// Resolves the selected account, then runs `command` for it on a runtime.
    pub fn on_account<T>(
        &self,
        command: impl AsyncFnOnce(&Account) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let account = self.account()?;
        self.block_on(command(&account))?
    }

    /// Runs a command's future on a single-threaded runtime.
    pub fn block_on<T>(&self, fut: impl Future<Output = T>) -> Result<T, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Failure::with_cause(Exit::Software, e).context("starting the async runtime")
            })?;
        let result = runtime.block_on(fut);
        // A keyring call that timed out may still be stuck in a blocking thread: do not
        // wait for it at exit.
        runtime.shutdown_timeout(std::time::Duration::from_millis(100));
        Ok(result)
    }
}
