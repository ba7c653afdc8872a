//! Username templates (`coffer_username_template`): parse arbitrary text
//! and render what parses with fixed data. Never a panic; a rendered name
//! is within the documented output limit.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use coffer_username_template::{MAX_OUTPUT_LEN, TemplateData, UsernameTemplate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = UsernameTemplate::parse(text) else {
        return;
    };
    let mut values = TemplateData::new("token-fuzz.user@example", "role-Ω");
    values.now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Ok(name) = template.render(&values) {
        assert!(
            name.len() <= MAX_OUTPUT_LEN,
            "rendered {} bytes",
            name.len()
        );
    }
});
