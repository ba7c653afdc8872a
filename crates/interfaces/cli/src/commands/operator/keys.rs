//! `operator key-status` and `operator rotate`.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use coffer_client::Client;

use super::{num, text};
use crate::context::Ctx;
use crate::output::table::columns;
use crate::output::{Format, line, to_json};

/// The key status fields, from the top level or the `data` object of the answer.
fn fields(answer: &Value) -> Value {
    let source = answer
        .get("data")
        .filter(|d| d.is_object())
        .unwrap_or(answer);
    json!({
        "term": num(source, "term"),
        "install_time": text(source, "install_time"),
        "encryptions": num(source, "encryptions"),
    })
}

/// Formats an RFC 3339 time like Go's `time.RFC822` in UTC (`02 Jan 06 15:04 UTC`);
/// other text is returned unchanged.
pub fn rfc822(raw: &str) -> String {
    let format = time::macros::format_description!(
        "[day] [month repr:short] [year repr:last_two] [hour]:[minute] UTC"
    );
    coffer_types::timestamp::parse_rfc3339(raw)
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| raw.to_owned())
}

/// Vault's key-status lines.
pub fn render(answer: &Value) -> String {
    let f = fields(answer);
    columns(&[
        vec!["Key Term".into(), num(&f, "term").to_string()],
        vec!["Install Time".into(), rfc822(&text(&f, "install_time"))],
        vec![
            "Encryption Count".into(),
            num(&f, "encryptions").to_string(),
        ],
    ])
}

async fn print(ctx: &Ctx, client: &Client) -> Result<()> {
    let answer = client
        .sys()
        .key_status()
        .await
        .context("Error reading key status")?;
    match ctx.out.format {
        Format::Json => line(&to_json(&fields(&answer))?),
        Format::Table => line(&render(&answer)),
    }
    Ok(())
}

/// Runs `operator key-status`.
pub async fn key_status(ctx: &Ctx, client: &Client) -> Result<()> {
    print(ctx, client).await
}

/// Runs `operator rotate`.
pub async fn rotate(ctx: &Ctx, client: &Client) -> Result<()> {
    client.sys().rotate().await.context("Error rotating key")?;
    if ctx.out.is_table() {
        line("Success! Rotated key\n");
    }
    print(ctx, client).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_status_lines() {
        let out =
            render(&json!({"term": 2, "install_time": "2017-01-01T12:30:00Z", "encryptions": 10}));
        assert_eq!(
            out,
            "Key Term            2\nInstall Time        01 Jan 17 12:30 UTC\nEncryption Count    10"
        );
        let nested = render(&json!({"data": {"term": 3, "install_time": "x", "encryptions": 0}}));
        assert!(nested.starts_with("Key Term            3\nInstall Time        x"));
    }
}
