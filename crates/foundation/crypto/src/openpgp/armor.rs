//! ASCII armor (RFC 4880 section 6): `gpg --armor --export` output turned
//! back into the binary key, with the CRC-24 checksum checked when present
//! (RFC 9580 makes it optional).

use base64::Engine as _;

use crate::CryptoError;

const BEGIN_PUBLIC: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END_PUBLIC: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// Whether `text` looks like ASCII armor rather than base64.
pub(super) fn is_armored(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN PGP ")
}

/// The binary contents of an armored public key block.
pub(super) fn decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    let mut lines = text.lines().map(str::trim);
    let begin = lines.by_ref().find(|l| !l.is_empty()).unwrap_or_default();
    if begin != BEGIN_PUBLIC {
        return Err(if begin.contains("PRIVATE KEY") {
            CryptoError::PgpKey("a private key was given; give the public key".into())
        } else {
            CryptoError::PgpKey(format!(
                "ASCII armor must be a public key block ({BEGIN_PUBLIC})"
            ))
        });
    }
    let mut body = String::new();
    let mut checksum = None;
    let mut in_headers = true;
    let mut ended = false;
    for line in lines {
        if line == END_PUBLIC {
            ended = true;
            break;
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
                continue;
            }
            // Armor headers ("Comment: ..."); base64 never holds a colon.
            if line.contains(':') {
                continue;
            }
            in_headers = false;
        }
        if let Some(sum) = line.strip_prefix('=') {
            checksum = Some(sum.to_owned());
        } else {
            body.push_str(line);
        }
    }
    if !ended {
        return Err(CryptoError::PgpKey(format!(
            "ASCII armor is missing its end line ({END_PUBLIC})"
        )));
    }
    let binary = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| CryptoError::PgpKey("ASCII armor holds invalid base64".into()))?;
    if let Some(sum) = checksum {
        let expected = base64::engine::general_purpose::STANDARD
            .decode(sum.as_bytes())
            .ok()
            .filter(|b| b.len() == 3)
            .ok_or_else(|| CryptoError::PgpKey("ASCII armor checksum is malformed".into()))?;
        let actual = crc24(&binary).to_be_bytes();
        if expected[..] != actual[1..] {
            return Err(CryptoError::PgpKey(
                "ASCII armor checksum does not match".into(),
            ));
        }
    }
    Ok(binary)
}

/// The CRC-24 of RFC 4880 section 6.1.
fn crc24(data: &[u8]) -> u32 {
    const INIT: u32 = 0x00b7_04ce;
    const POLY: u32 = 0x0186_4cfb;
    let mut crc = INIT;
    for &byte in data {
        crc ^= u32::from(byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= POLY;
            }
        }
    }
    crc & 0x00ff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armor(binary: &[u8], with_checksum: bool) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(binary);
        let mut out = format!("{BEGIN_PUBLIC}\nComment: test\n\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        if with_checksum {
            let sum = crc24(binary).to_be_bytes();
            out.push('=');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(&sum[1..]));
            out.push('\n');
        }
        out.push_str(END_PUBLIC);
        out.push('\n');
        out
    }

    #[test]
    fn crc24_of_known_input() {
        // "=bVB8" closes a gpg export; check the algorithm on a fixed
        // string instead: CRC-24/OPENPGP("123456789") = 0x21cf02.
        assert_eq!(crc24(b"123456789"), 0x0021_cf02);
    }

    #[test]
    fn decodes_with_and_without_checksum_and_headers() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        assert!(is_armored(&armor(&binary, true)));
        assert_eq!(decode(&armor(&binary, true)).unwrap(), binary);
        assert_eq!(decode(&armor(&binary, false)).unwrap(), binary);
        // No blank line after the begin line, CRLF line ends.
        let crlf = armor(&binary, true)
            .replace("Comment: test\n\n", "")
            .replace('\n', "\r\n");
        assert_eq!(decode(&crlf).unwrap(), binary);
    }

    #[test]
    fn refuses_bad_armor() {
        let binary = vec![1u8, 2, 3, 4, 5, 6];
        let good = armor(&binary, true);
        let wrong_sum = good.replace(
            &format!("={}", &good.lines().rev().nth(1).unwrap()[1..]),
            "=AAAA",
        );
        let cases = [
            wrong_sum,
            good.replace(END_PUBLIC, ""),
            good.replace("PUBLIC KEY", "PRIVATE KEY"),
            good.replace("PUBLIC KEY BLOCK", "MESSAGE"),
            good.replace("AQIDBAUG", "AQ*DBAUG"),
        ];
        for case in cases {
            assert!(
                matches!(decode(&case), Err(CryptoError::PgpKey(_))),
                "{case}"
            );
        }
        let private = decode(&good.replace("PUBLIC KEY", "PRIVATE KEY")).unwrap_err();
        assert!(private.to_string().contains("private key"), "{private}");
    }
}
