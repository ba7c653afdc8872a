//! `coffer path-help PATH`: the server's built-in help for any API path.
//!
//! It exists because every backend answers `GET /v1/<path>?help=1` from its
//! path declarations, and this is how a person reads that answer, as with
//! Vault's `vault path-help`. The help text is printed as it comes; with
//! `-format=json` the `openapi` object of the answer is printed instead (as
//! Vault does), or the whole help object when the server sent no `openapi`.

use anyhow::{Context, Result};
use clap::Args;
use coffer_client::{Client, ClientError, RawResponse};
use serde_json::{Value, json};

use crate::context::Ctx;
use crate::exit::{Exit, REMOTE};
use crate::input::sanitize_path;
use crate::output::{Format, line, to_json};

/// Vault's wording when the server is sealed: mount points are unknown then.
const SEALED_MESSAGE: &str = "Error: Vault is sealed.\n\n\
The \"path-help\" command requires the Vault to be unsealed so that the mount\n\
points of the secret engines are known.";

/// `coffer path-help` arguments.
#[derive(Debug, Args)]
pub struct PathHelpArgs {
    /// The path to describe, e.g. `secret/data/app` or `sys/mounts`.
    pub path: String,
}

/// Where the help object sits in an answer: at the top level (Vault's
/// shape) or under `data` (an enveloped answer).
fn help_object(body: &Value) -> Option<&serde_json::Map<String, Value>> {
    if let Some(obj) = body.as_object()
        && obj.get("help").is_some_and(Value::is_string)
    {
        return Some(obj);
    }
    body.get("data")
        .and_then(Value::as_object)
        .filter(|d| d.get("help").is_some_and(Value::is_string))
}

/// The `errors` list of an error answer, as Vault's client reads it.
fn errors_of(body: Option<&Value>) -> Vec<String> {
    body.and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|e| match e {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /v1/<path>?help=1`; an error status becomes the client's API error
/// (Vault's "Error making API request" text).
async fn fetch_help(client: &Client, path: &str) -> Result<Value, ClientError> {
    let query = [("help".to_owned(), "1".to_owned())];
    // `Default` of the client's HTTP method type is GET.
    let RawResponse { status, body } = client.raw(Default::default(), path, &query, None).await?;
    if status >= 400 {
        let mut url = client.url_for(path);
        url.set_query(Some("help=1"));
        return Err(ClientError::Api {
            method: "GET".into(),
            url: url.to_string(),
            status,
            errors: errors_of(body.as_ref()),
        });
    }
    Ok(body.unwrap_or(Value::Null))
}

/// Runs `coffer path-help`.
pub async fn run(ctx: &Ctx, args: PathHelpArgs) -> Result<()> {
    let client = ctx.client()?;
    let path = sanitize_path(&args.path);
    let body = match fetch_help(&client, &path).await {
        Ok(body) => body,
        Err(err) if err.errors().iter().any(|e| e.contains("Vault is sealed")) => {
            return Err(Exit::with_message(REMOTE, SEALED_MESSAGE).into());
        }
        Err(err) => return Err(err).context("Error retrieving help"),
    };
    let help = help_object(&body).ok_or_else(|| {
        Exit::remote(format!(
            "Error retrieving help: the answer for {path} carries no help text"
        ))
    })?;
    match ctx.out.format {
        Format::Table => {
            let text = help.get("help").and_then(Value::as_str).unwrap_or_default();
            line(text.trim_end());
        }
        Format::Json => {
            let doc = help.get("openapi").cloned().unwrap_or_else(|| json!(help));
            line(&to_json(&doc)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_is_found_at_the_top_or_under_data() {
        let top = json!({"help": "top", "see_also": []});
        assert_eq!(help_object(&top).unwrap()["help"], "top");
        let enveloped = json!({"request_id": "r", "data": {"help": "inner"}});
        assert_eq!(help_object(&enveloped).unwrap()["help"], "inner");
        assert!(help_object(&json!({"data": {"keys": []}})).is_none());
        assert!(help_object(&json!({"help": 3})).is_none());
        assert!(help_object(&Value::Null).is_none());
    }

    #[test]
    fn errors_are_read_like_vaults_client() {
        let body = json!({"errors": ["unsupported path", 7]});
        assert_eq!(errors_of(Some(&body)), ["unsupported path", "7"]);
        assert!(errors_of(Some(&json!({}))).is_empty());
        assert!(errors_of(None).is_empty());
    }
}
