//! The command line, declared once with clap. Vault's single-dash spelling
//! (`-format=json`) is accepted through [`crate::flags_compat`].
//!
//! Boolean flags take an optional `=true`/`=false` like Go's flag package
//! (`-renewable=false`), so they are declared with `require_equals` and a
//! default missing value of `true`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    audit, auth, generic, kv, lease, login, operator, path_help, policy, rotation, secrets, token,
};

/// Coffer: a secrets manager that speaks Vault's HTTP API.
#[derive(Debug, Parser)]
#[command(
    name = "coffer",
    about = "Coffer: a secrets manager that speaks Vault's HTTP API.",
    disable_version_flag = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// HTTP and output options, accepted by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by all client commands (Vault's "HTTP Options" and "Output Options").
#[derive(Clone, Debug, Default, Args)]
pub struct GlobalArgs {
    /// Address of the server [env: COFFER_ADDR, VAULT_ADDR; default https://127.0.0.1:8200].
    #[arg(long, global = true, value_name = "URL")]
    pub address: Option<String>,
    /// PEM file of the CA that signed the server certificate [env: COFFER_CACERT, VAULT_CACERT].
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the server certificate. Dangerous [env: VAULT_SKIP_VERIFY].
    #[arg(
        long,
        global = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub tls_skip_verify: Option<bool>,
    /// Namespace for the request [env: COFFER_NAMESPACE, VAULT_NAMESPACE].
    #[arg(long, global = true, visible_alias = "ns", value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format: "table" or "json" [env: COFFER_FORMAT, VAULT_FORMAT].
    #[arg(long, global = true, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Print only this field, raw, without a trailing newline when piped.
    #[arg(long, global = true, value_name = "NAME")]
    pub field: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a Coffer server.
    Server(ServerArgs),
    /// Perform operator-specific tasks (init, unseal, seal, rekey, ...).
    Operator(operator::OperatorArgs),
    /// Print seal and HA status (exit code 2 when sealed).
    Status,
    /// Authenticate locally with a token and store it in ~/.vault-token.
    Login(login::LoginArgs),
    /// Interact with the key/value secrets engine.
    Kv(kv::KvArgs),
    /// Interact with secrets engines.
    Secrets(secrets::SecretsArgs),
    /// Interact with auth methods.
    Auth(auth::AuthArgs),
    /// Interact with policies.
    Policy(policy::PolicyArgs),
    /// Interact with tokens.
    Token(token::TokenArgs),
    /// Verify, prove and search tamper-evident audit logs.
    Audit(audit::AuditArgs),
    /// List and run scheduled rotations.
    Rotation(rotation::RotationArgs),
    /// Revoke (one, or every one under a prefix), renew and look up leases.
    Lease(lease::LeaseArgs),
    /// Retrieve API help for paths (the server's `?help=1` answer).
    PathHelp(path_help::PathHelpArgs),
    /// Read data and retrieve secrets.
    Read(generic::ReadArgs),
    /// Write data, configuration, and secrets.
    Write(generic::WriteArgs),
    /// List data or secrets.
    List(generic::ListArgs),
    /// Delete secrets and configuration.
    Delete(generic::DeleteArgs),
    /// Print the Coffer version.
    Version,
}

/// `coffer server` options.
#[derive(Clone, Debug, Default, Args)]
pub struct ServerArgs {
    /// Path to an HCL or JSON configuration file.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Development mode: in memory, initialised, unsealed, root token printed. Not for production.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dev: bool,
    /// Root token id in development mode [env: VAULT_DEV_ROOT_TOKEN_ID is read by the server].
    #[arg(long, value_name = "ID")]
    pub dev_root_token_id: Option<String>,
    /// Listen address in development mode.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8200")]
    pub dev_listen_address: Option<String>,
    /// Log level: trace, debug, info, warn or error.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_args_parse() {
        let cli =
            Cli::try_parse_from(["coffer", "server", "--dev", "--dev-root-token-id=root"]).unwrap();
        let Command::Server(args) = cli.command else {
            panic!("not server")
        };
        assert!(args.dev);
        assert_eq!(args.dev_root_token_id.as_deref(), Some("root"));
        assert_eq!(args.dev_listen_address.as_deref(), Some("127.0.0.1:8200"));
        let cli =
            Cli::try_parse_from(["coffer", "server", "--dev=false", "--config", "c.hcl"]).unwrap();
        let Command::Server(args) = cli.command else {
            panic!("not server")
        };
        assert!(!args.dev);
        assert_eq!(args.config, Some(PathBuf::from("c.hcl")));
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "coffer",
            "status",
            "--format=json",
            "--address",
            "http://x:1",
            "--tls-skip-verify",
            "--ns",
            "a",
        ])
        .unwrap();
        assert_eq!(cli.global.format.as_deref(), Some("json"));
        assert_eq!(cli.global.address.as_deref(), Some("http://x:1"));
        assert_eq!(cli.global.tls_skip_verify, Some(true));
        assert_eq!(cli.global.namespace.as_deref(), Some("a"));
    }
}
