//! The logical operation a request performs.

use serde::{Deserialize, Serialize};

/// What a request does to its path. HTTP methods map onto these
/// (`PUT` and `POST` both give `Update` until the existence check turns
/// them into `Create`; `LIST` or `GET ?list=true` give `List`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Create a new entry (an update of a path that does not exist yet).
    Create,
    /// Read an entry.
    Read,
    /// Update (or create, before the existence check) an entry.
    Update,
    /// Partially update an entry (HTTP `PATCH`).
    Patch,
    /// Delete an entry.
    Delete,
    /// List the keys under a prefix.
    List,
    /// Ask for the help text of a path.
    Help,
}

impl Operation {
    /// The lowercase name Vault uses for the operation (`read`, `update`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
            Operation::List => "list",
            Operation::Help => "help",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
