//! The Redis plugin of the `database` secrets engine (Vault's
//! `redis-database-plugin`, from hashicorp/vault-plugin-database-redis):
//! dynamic and static credentials are Redis ACL users.
//!
//! Config fields: `host` and `port` (no `connection_url`), `tls`,
//! `insecure_tls` and `ca_cert` (PEM), and the common `username` /
//! `password` of the managing ACL user (both may be empty: the `default`
//! user without a password). The plugin connects on first use, over one
//! auto-reconnecting multiplexed connection; a server that cannot be
//! reached fails the call within 10 seconds.
//!
//! A role's creation statement is a JSON list of ACL rules
//! (`["~cache:*", "+@read"]`; default [`DEFAULT_RULES`], as in Vault);
//! the user is made with `ACL SETUSER <name> on ><password> <rules...>`,
//! and deleted again if that fails. Rules that touch passwords (`nopass`,
//! `>pw`, `reset`, ...) are refused. Rotation is `ACL SETUSER <name>
//! resetpass ><password>` on a user that must exist; revocation is `ACL
//! DELUSER`, which also disconnects the user's clients, and succeeds for a
//! user that is gone. ACL users do not expire, so renewal does nothing;
//! like Vault's plugin, revocation, rotation, renewal and rollback
//! statements are not used. When the managing user changes its own
//! password, the plugin reconnects with the new one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod factory;
mod options;
mod plugin;
mod rules;

pub use factory::{DEFAULT_USERNAME_TEMPLATE, PLUGIN_NAME, RedisFactory};
pub use options::{CA_CERT, HOST, INSECURE_TLS, PORT, TLS};
pub use rules::DEFAULT_RULES;
