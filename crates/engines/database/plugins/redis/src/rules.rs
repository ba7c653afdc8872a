//! A role's creation statements for Redis: a JSON list of ACL rules.

use coffer_database_plugin::PluginError;

/// The ACL rules when a role gives none (the default of Vault's Redis
/// plugin): read any key.
pub const DEFAULT_RULES: &str = r#"["~*", "+@read"]"#;

/// The ACL rules of a role: the first non-blank statement, a JSON list of
/// strings (`["~cache:*", "+@read"]`), or [`DEFAULT_RULES`].
pub(crate) fn acl_rules(statements: &[String]) -> Result<Vec<String>, PluginError> {
    let first = statements
        .iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or(DEFAULT_RULES);
    let rules: Vec<String> = serde_json::from_str(first).map_err(|e| {
        PluginError::InvalidStatements(format!(
            "the creation statement must be a JSON list of ACL rules, like {DEFAULT_RULES}: {e}"
        ))
    })?;
    if let Some(bad) = rules
        .iter()
        .find(|r| r.trim().is_empty() || is_password_rule(r))
    {
        return Err(PluginError::InvalidStatements(if bad.trim().is_empty() {
            "an ACL rule is empty".to_owned()
        } else {
            "ACL rules cannot set passwords (nopass, resetpass, >, <, #, !): the plugin does"
                .to_owned()
        }));
    }
    Ok(rules)
}

/// Rules that would change or drop the generated password.
fn is_password_rule(rule: &str) -> bool {
    let lower = rule.trim().to_ascii_lowercase();
    lower == "nopass"
        || lower == "resetpass"
        || lower == "reset"
        || rule.starts_with(['>', '<', '#', '!'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_given_rules() {
        assert_eq!(acl_rules(&[]).unwrap(), ["~*", "+@read"]);
        assert_eq!(acl_rules(&[" ".into()]).unwrap(), ["~*", "+@read"]);
        assert_eq!(
            acl_rules(&[r#"["+@admin"]"#.into(), "ignored".into()]).unwrap(),
            ["+@admin"]
        );
    }

    #[test]
    fn bad_statements() {
        for bad in [
            "+@read",
            r#"{"rules": []}"#,
            r#"["~*", 3]"#,
            r#"[""]"#,
            r#"["nopass"]"#,
            r#"[">other"]"#,
            r#"["reset"]"#,
        ] {
            assert!(
                matches!(
                    acl_rules(&[bad.to_owned()]),
                    Err(PluginError::InvalidStatements(_))
                ),
                "{bad}"
            );
        }
    }
}
