//! What every client command needs: the global (HTTP and output) options
//! resolved against the environment, and a way to build the client.

use anyhow::Result;

use coffer_client::{Client, ClientConfig};

use crate::args::GlobalArgs;
use crate::output::{Format, Output};

/// The resolved options of one command run.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The global flags as given.
    pub global: GlobalArgs,
    /// Output settings (`-format`, `-field`).
    pub out: Output,
}

impl Ctx {
    /// Resolves the output format: `-format`, else `COFFER_FORMAT`, else
    /// `VAULT_FORMAT`, else table.
    pub fn new(global: GlobalArgs) -> Result<Self> {
        let raw = global
            .format
            .clone()
            .or_else(|| env_nonempty("COFFER_FORMAT"))
            .or_else(|| env_nonempty("VAULT_FORMAT"))
            .unwrap_or_default();
        let out = Output {
            format: Format::parse(&raw)?,
            field: global.field.clone().filter(|f| !f.is_empty()),
        };
        Ok(Self { global, out })
    }

    /// The client configuration: environment (and `~/.vault-token`), then flags.
    pub fn config(&self) -> Result<ClientConfig> {
        let mut config = ClientConfig::from_env()?;
        if let Some(address) = &self.global.address {
            config.address = address.clone();
        }
        if let Some(ca) = &self.global.ca_cert {
            config.ca_cert = Some(ca.clone());
        }
        if let Some(skip) = self.global.tls_skip_verify {
            config.danger_skip_verify = skip;
        }
        if let Some(ns) = &self.global.namespace {
            config.namespace = Some(ns.clone());
        }
        Ok(config)
    }

    /// Builds the client.
    pub fn client(&self) -> Result<Client> {
        Ok(Client::new(self.config()?)?)
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
