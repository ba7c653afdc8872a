//! The server configuration parser: `coffer_config::parse_hcl` and
//! `parse_json` on arbitrary text. Refuse or accept, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = coffer_config::parse_hcl(text);
    let _ = coffer_config::parse_json(text);
});
