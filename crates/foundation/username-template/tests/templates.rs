//! End-to-end rendering through the public API: Vault's documented examples,
//! the plugins' default templates, and error messages for bad templates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coffer_username_template::{
    MAX_TEMPLATE_LEN, MYSQL_DEFAULT, MYSQL_LEGACY_DEFAULT, POSTGRES_DEFAULT, REDIS_DEFAULT,
    TemplateData, TemplateError, UsernameTemplate,
};

/// 2009-02-13 23:31:30 UTC, the time of Vault's documentation examples.
fn doc_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_234_567_890)
}

fn doc_data() -> TemplateData {
    TemplateData {
        display_name: "token-with-display-name".into(),
        role_name: "my_custom_database_role".into(),
        now: doc_time(),
    }
}

fn render(text: &str) -> String {
    UsernameTemplate::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .render(&doc_data())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn parse_error(text: &str) -> String {
    UsernameTemplate::parse(text).unwrap_err().to_string()
}

fn is_alnum(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[test]
fn vault_documentation_examples() {
    assert_eq!(
        render("{{.DisplayName}}_{{.RoleName}}"),
        "token-with-display-name_my_custom_database_role"
    );
    assert_eq!(
        render(
            r#"FOO_{{.DisplayName | replace "-" "_" | uppercase}}_{{.RoleName | replace "-" "_" | uppercase}}_{{timestamp "2006_01_02T15_04_05Z" | replace "-" "_"}}"#
        ),
        "FOO_TOKEN_WITH_DISPLAY_NAME_MY_CUSTOM_DATABASE_ROLE_2009_02_13T23_31_30Z"
    );
    let truncated = render(
        r#"{{printf "v_%s_%s_%s_%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 45}}"#,
    );
    assert_eq!(truncated.len(), 45);
    assert!(truncated.starts_with("v_token-wi_my_custo_"));
    assert!(is_alnum(&truncated[20..40]));
    assert_eq!(&truncated[40..], "_1234");
}

#[test]
fn every_function() {
    assert_eq!(
        render(r#"{{ printf "%s|%d|%v|%%" "a" 5 .RoleName }}"#),
        "a|5|my_custom_database_role|%"
    );
    let random = render("{{ random 20 }}");
    assert_eq!(random.len(), 20);
    assert!(is_alnum(&random));
    assert_eq!(render("{{ .DisplayName | truncate 5 }}"), "token");
    assert_eq!(render("{{ truncate 5 .RoleName }}"), "my_cu");
    assert_eq!(
        render(r#"{{ "abcdefghijklmnopqrstuvwxyz" | truncate_sha256 20 }}"#),
        "abcdefghijkl872808ff"
    );
    assert_eq!(
        render("{{ .RoleName | uppercase }}"),
        "MY_CUSTOM_DATABASE_ROLE"
    );
    assert_eq!(render(r#"{{ "MiXeD" | lowercase }}"#), "mixed");
    assert_eq!(
        render(r#"{{ .RoleName | replace "_" "." }}"#),
        "my.custom.database.role"
    );
    assert_eq!(
        render(r#"{{ "foobar" | sha256 }}"#),
        "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2"
    );
    assert_eq!(render(r#"{{ "foobar" | base64 }}"#), "Zm9vYmFy");
    assert_eq!(render("{{ unix_time }}"), "1234567890");
    assert_eq!(render("{{ unix_time_millis }}"), "1234567890000");
    assert_eq!(
        render(r#"{{ timestamp "2006-01-02 15:04:05" }}"#),
        "2009-02-13 23:31:30"
    );
    let uuid = render("{{ uuid }}");
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.matches('-').count(), 4);
    assert!(
        uuid.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn pipelines_parentheses_and_literals() {
    assert_eq!(
        render(r#"{{ "ab-cd" | replace "-" "_" | uppercase | truncate 4 }}"#),
        "AB_C"
    );
    assert_eq!(
        render(r#"{{ printf "%s+%s" "x" (.RoleName | truncate 2) }}"#),
        "x+my"
    );
    assert_eq!(
        render(r#"{{ "tail" | printf "%s-%s" "head" }}"#),
        "head-tail"
    );
    assert_eq!(
        render(r#"{{ (printf "%s" ("a" | uppercase)) | lowercase }}"#),
        "a"
    );
    assert_eq!(
        render(r#"{{ "a\tb\"c\\" }}|{{ `raw\n` }}"#),
        "a\tb\"c\\|raw\\n"
    );
    assert_eq!(render("{{ -5 }} {{ 0x10 }}"), "-5 16");
    assert_eq!(render("{{/* a comment */}}x"), "x");
}

#[test]
fn trim_markers() {
    assert_eq!(render("a  {{- .RoleName | truncate 2 -}}  \n b"), "amyb");
    assert_eq!(render("a  {{- .RoleName | truncate 2 }}  b"), "amy  b");
    assert_eq!(render("a  {{ .RoleName | truncate 2 -}}  b"), "a  myb");
    assert_eq!(render("{{ 3 }} {{- 4 }}"), "34");
}

#[test]
fn postgres_default() {
    let template = UsernameTemplate::parse(POSTGRES_DEFAULT).unwrap();
    let name = template.render(&doc_data()).unwrap();
    // v-token-wi-my_custo-<20 random>-1234567890
    assert_eq!(name.len(), 51);
    assert!(name.starts_with("v-token-wi-my_custo-"));
    assert!(is_alnum(&name[20..40]));
    assert_eq!(&name[40..], "-1234567890");
    let long = TemplateData {
        display_name: "d".repeat(200),
        role_name: "r".repeat(200),
        now: doc_time(),
    };
    assert!(template.render(&long).unwrap().len() <= 63);
}

#[test]
fn mysql_default() {
    let template = UsernameTemplate::parse(MYSQL_DEFAULT).unwrap();
    let name = template.render(&doc_data()).unwrap();
    // v-token-with-my_custom_-<20 random>-... cut to 32 bytes.
    assert_eq!(name.len(), 32);
    assert!(name.starts_with("v-token-with-my_custom_-"));
    assert!(is_alnum(&name[24..]));
    let short = TemplateData {
        display_name: "t".into(),
        role_name: "r".into(),
        now: doc_time(),
    };
    let name = template.render(&short).unwrap();
    assert_eq!(name.len(), 32);
    assert!(name.starts_with("v-t-r-"));
    assert!(is_alnum(&name[6..26]));
    assert_eq!(&name[26..], "-12345");

    let legacy = UsernameTemplate::parse(MYSQL_LEGACY_DEFAULT).unwrap();
    let name = legacy.render(&doc_data()).unwrap();
    assert_eq!(name.len(), 16);
    assert!(name.starts_with("v-my_c-"));
    assert!(is_alnum(&name[7..]));
}

#[test]
fn redis_default() {
    let template = UsernameTemplate::parse(REDIS_DEFAULT).unwrap();
    let name = template.render(&doc_data()).unwrap();
    // V_TOKEN-WITH-DISPLAY-NAME_MY_CUSTOM_DATABASE_ROLE_<20 random>_1234567890
    assert_eq!(name.len(), 2 + 23 + 1 + 23 + 1 + 20 + 1 + 10);
    assert!(name.starts_with("V_TOKEN-WITH-DISPLAY-NAME_MY_CUSTOM_DATABASE_ROLE_"));
    assert!(
        name[50..70]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert!(name.ends_with("_1234567890"));
    assert_eq!(name, name.to_uppercase());
    let long = TemplateData {
        display_name: "d".repeat(200),
        role_name: "r".repeat(200),
        now: doc_time(),
    };
    assert_eq!(template.render(&long).unwrap().len(), 100);
}

#[test]
fn random_parts_differ_between_renders() {
    for text in [POSTGRES_DEFAULT, MYSQL_DEFAULT, REDIS_DEFAULT, "{{ uuid }}"] {
        let template = UsernameTemplate::parse(text).unwrap();
        let a = template.render(&doc_data()).unwrap();
        let b = template.render(&doc_data()).unwrap();
        assert_ne!(a, b, "{text}");
    }
}

#[test]
fn the_clock_comes_from_the_data() {
    let template = UsernameTemplate::parse("{{ unix_time }}").unwrap();
    let data = TemplateData::new("d", "r");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let rendered: u64 = template.render(&data).unwrap().parse().unwrap();
    assert!(rendered <= now && now - rendered < 60);
}

#[test]
fn bad_templates_have_clear_errors() {
    assert_eq!(
        parse_error("{{ foo }}"),
        "unable to parse template: unknown function \"foo\" on line 1, column 4"
    );
    assert_eq!(
        parse_error("x\n{{ .RoleName | truncate }}"),
        "unable to parse template: wrong number of args for truncate: want 2 got 1 on line 2, column 16"
    );
    assert!(parse_error("{{ .Username }}").contains("unknown field \".Username\""));
    assert_eq!(
        parse_error("v-{{ .RoleName"),
        "unable to parse template: unclosed action on line 1, column 3"
    );
    assert!(parse_error("{{ .RoleName }").contains("unexpected \"}\""));
    assert!(parse_error("{{ random 20 | truncate \"x\" }}").contains("wrong type"));
    assert_eq!(parse_error(""), "missing template");
    let big = format!("{{{{ random 20 }}}}{}", "x".repeat(10 * 1024));
    assert_eq!(
        UsernameTemplate::parse(&big),
        Err(TemplateError::TooLong {
            len: big.len(),
            max: MAX_TEMPLATE_LEN
        })
    );
}

#[test]
fn render_errors() {
    let template = UsernameTemplate::parse("{{ .RoleName | truncate -1 }}").unwrap();
    assert_eq!(
        template.render(&doc_data()).unwrap_err().to_string(),
        "unable to apply template: error calling truncate: max length must be > 0 but was -1"
    );
    let template = UsernameTemplate::parse("{{ random 100000 }}").unwrap();
    assert!(matches!(
        template.render(&doc_data()),
        Err(TemplateError::OutputTooLong { .. })
    ));
}

#[test]
fn garbage_never_panics() {
    let pieces = [
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        "(",
        ")",
        "|",
        "\"",
        "`",
        ".",
        ".RoleName",
        "random",
        "5",
        "-",
        "/*",
        "*/",
        "\\",
        "printf",
        "\"%s\"",
        "é",
        "$",
        "truncate",
        "\n",
    ];
    // A deterministic walk over many combinations.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(state % 12) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
        }
        if let Ok(template) = UsernameTemplate::parse(&text) {
            let _ = template.render(&doc_data());
        }
    }
}
