//! Rendering JSON values the way Vault's Go CLI prints them (`fmt` `%v` of the
//! decoded JSON, durations in seconds as Go durations).

use serde_json::Value;

/// Go's `%v` of a decoded JSON value: strings bare, `null` as `<nil>`, arrays as
/// `[a b]`, objects as `map[k:v]` with sorted keys.
pub fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_value(&map[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\"")))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// Vault's `looksLikeDuration`: keys whose integer values are printed as durations.
pub fn looks_like_duration(key: &str) -> bool {
    key == "period"
        || key.ends_with("_period")
        || key == "ttl"
        || key.ends_with("_ttl")
        || key == "duration"
        || key.ends_with("_duration")
        || key == "lease_max"
        || key == "ttl_max"
}

/// Go's `time.Duration.String()` for whole seconds.
fn go_duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs % 3600) / 60, abs % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// Vault's `humanDuration`: a Go duration without the trailing zero units
/// (`3600` → `1h`, `90` → `1m30s`, `2764800` → `768h`).
pub fn human_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut s = go_duration(secs);
    if s.ends_with("m0s") {
        s.truncate(s.len() - 2);
    }
    if let Some(idx) = s.find("h0m") {
        s = format!("{}{}", &s[..=idx], &s[idx + 3..]);
    }
    s
}

/// Vault's `humanDurationInt`: integers become durations, anything else is
/// printed unchanged.
pub fn human_duration_value(value: &Value) -> String {
    match value.as_i64() {
        Some(secs) => human_duration(secs),
        None => go_value(value),
    }
}

/// A `data` value for a table cell: durations humanised when the key looks like one.
pub fn cell(key: &str, value: &Value) -> String {
    if looks_like_duration(key) {
        human_duration_value(value)
    } else {
        go_value(value)
    }
}

/// Wraps `text` at 78 columns with `pad` spaces of left padding (Vault's
/// `wrapAtLengthWithPadding`).
pub fn wrap_with_padding(text: &str, pad: usize) -> String {
    let width = 78usize.saturating_sub(pad).max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    let indent = " ".repeat(pad);
    lines
        .into_iter()
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_formatting_of_json() {
        assert_eq!(go_value(&json!(null)), "<nil>");
        assert_eq!(go_value(&json!("s")), "s");
        assert_eq!(go_value(&json!(12)), "12");
        assert_eq!(go_value(&json!(["a", 1, true])), "[a 1 true]");
        assert_eq!(
            go_value(&json!({"b": 2, "a": {"x": null}})),
            "map[a:map[x:<nil>] b:2]"
        );
        assert_eq!(
            go_quoted_list(&["default".into(), "root".into()]),
            r#"["default" "root"]"#
        );
        assert_eq!(go_quoted_list(&[]), "[]");
    }

    #[test]
    fn durations_like_vault() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(90), "1m30s");
        assert_eq!(human_duration(3600), "1h");
        assert_eq!(human_duration(5400), "1h30m");
        assert_eq!(human_duration(3661), "1h1m1s");
        assert_eq!(human_duration(2_764_800), "768h");
        assert_eq!(human_duration(120), "2m");
        assert_eq!(human_duration_value(&json!("1h")), "1h");
        assert_eq!(cell("ttl", &json!(60)), "1m");
        assert_eq!(cell("token_ttl", &json!(7200)), "2h");
        assert_eq!(cell("count", &json!(60)), "60");
        assert!(looks_like_duration("lease_max") && !looks_like_duration("ttlx"));
    }

    #[test]
    fn wraps_with_padding() {
        let text = "word ".repeat(30);
        let wrapped = wrap_with_padding(&text, 2);
        assert!(
            wrapped
                .lines()
                .all(|l| l.starts_with("  ") && l.len() <= 78)
        );
        assert_eq!(wrapped.split_whitespace().count(), 30);
    }
}
