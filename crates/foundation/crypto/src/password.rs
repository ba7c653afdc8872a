//! Password hashing: Argon2id in PHC string form
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), with a random 16-byte
//! salt from the OS CSPRNG and constant-time verification.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{CryptoError, ct_eq, fill_random};

/// The cost parameters of an Argon2id hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordHashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism.
    pub lanes: u32,
}

/// The parameters new password hashes are made with: OWASP's minimum
/// recommendation for Argon2id (19 MiB of memory, 2 iterations, 1 lane).
pub const PASSWORD_HASH_PARAMS: PasswordHashParams = PasswordHashParams {
    memory_kib: 19 * 1024,
    iterations: 2,
    lanes: 1,
};

/// Cheap parameters for this crate's own unit tests only.
#[cfg(test)]
const TEST_PARAMS: PasswordHashParams = PasswordHashParams {
    memory_kib: 64,
    iterations: 1,
    lanes: 1,
};

/// The parameters in force: OWASP's in every build except this crate's tests.
#[cfg(not(test))]
const ACTIVE_PARAMS: PasswordHashParams = PASSWORD_HASH_PARAMS;
#[cfg(test)]
const ACTIVE_PARAMS: PasswordHashParams = TEST_PARAMS;

/// Hashes whose parameters exceed these are refused by [`verify_password`]
/// rather than computed, so a corrupted stored hash cannot exhaust memory.
const MAX_VERIFY_MEMORY_KIB: u32 = 256 * 1024;
const MAX_VERIFY_ITERATIONS: u32 = 16;
const MAX_VERIFY_LANES: u32 = 16;

/// Salt length in bytes.
const SALT_LEN: usize = 16;
/// Output length in bytes (Argon2's default).
const OUTPUT_LEN: usize = 32;

fn argon2(params: PasswordHashParams) -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.lanes,
        Some(OUTPUT_LEN),
    )
    .map_err(|_| CryptoError::PasswordHash)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_with(password: &[u8], params: PasswordHashParams) -> Result<String, CryptoError> {
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| CryptoError::PasswordHash)?;
    argon2(params)?
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|_| CryptoError::PasswordHash)
}

/// Hashes `password` with Argon2id ([`PASSWORD_HASH_PARAMS`]) and a fresh
/// random 16-byte salt; returns the PHC string to store.
pub fn hash_password(password: &[u8]) -> Result<String, CryptoError> {
    hash_with(password, ACTIVE_PARAMS)
}

/// Whether `password` matches the PHC string `phc`. The comparison is
/// constant-time. A malformed hash, another algorithm than Argon2id, or
/// parameters beyond sane bounds give `false`; this never panics.
pub fn verify_password(password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_MEMORY_KIB
        || params.t_cost() > MAX_VERIFY_ITERATIONS
        || params.p_cost() > MAX_VERIFY_LANES
    {
        return false;
    }
    // The argon2 verifier recomputes the hash with the stored parameters and
    // compares the outputs in constant time.
    Argon2::default().verify_password(password, &hash).is_ok()
}

/// Does the same work as verifying `password` against a real hash (one
/// Argon2id computation with the current parameters and a constant-time
/// comparison), for logins naming an unknown user, so failures take the same
/// time whether or not the user exists.
pub fn verify_against_dummy(password: &[u8]) {
    let out = dummy_hash(password);
    // The result is discarded: only the time spent matters.
    let _ = std::hint::black_box(ct_eq(&out, &[0u8; OUTPUT_LEN]));
}

/// The salt of [`verify_against_dummy`]'s computation.
const DUMMY_SALT: &[u8; SALT_LEN] = b"coffer-dummy-slt";

/// The Argon2id output [`verify_against_dummy`] computes (zeros if Argon2
/// refused); separate so tests can check it is a real hash at full cost.
fn dummy_hash(password: &[u8]) -> [u8; OUTPUT_LEN] {
    let mut out = [0u8; OUTPUT_LEN];
    if let Ok(a) = argon2(ACTIVE_PARAMS) {
        let _ = a.hash_password_into(password, DUMMY_SALT, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let phc = hash_password(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password(b"correct horse", &phc));
        assert!(!verify_password(b"correct hors", &phc));
        assert!(!verify_password(b"", &phc));
        assert!(!phc.contains("correct"));
    }

    #[test]
    fn empty_password_round_trips() {
        let phc = hash_password(b"").unwrap();
        assert!(verify_password(b"", &phc));
        assert!(!verify_password(b"x", &phc));
    }

    #[test]
    fn malformed_hashes_are_false() {
        let good = hash_password(b"pw").unwrap();
        let huge = good.replace("m=64,", "m=4000000,");
        let argon2i = good.replace("$argon2id$", "$argon2i$");
        let truncated = &good[..good.len() - 5];
        for bad in [
            "",
            "plain",
            "$argon2id$",
            "$argon2id$v=19$m=64,t=1,p=1$$",
            "$2b$10$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$!!!",
            huge.as_str(),
            argon2i.as_str(),
            truncated,
        ] {
            assert!(!verify_password(b"pw", bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn salts_are_distinct() {
        let a = hash_password(b"same").unwrap();
        let b = hash_password(b"same").unwrap();
        assert_ne!(a, b);
        let salt = |s: &str| s.split('$').nth(4).unwrap().to_owned();
        assert_ne!(salt(&a), salt(&b));
        // 16 bytes of salt are 22 unpadded base64 characters.
        assert_eq!(salt(&a).len(), 22);
        assert!(verify_password(b"same", &a) && verify_password(b"same", &b));
    }

    #[test]
    fn production_params_are_owasp_minimum() {
        assert_eq!(
            PASSWORD_HASH_PARAMS,
            PasswordHashParams {
                memory_kib: 19_456,
                iterations: 2,
                lanes: 1
            }
        );
        let phc = hash_with(b"pw", PASSWORD_HASH_PARAMS).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(b"pw", &phc));
        assert!(!verify_password(b"pW", &phc));
    }

    /// The PHC string of the dummy computation for `password`, with the
    /// parameters `real` (a hash made by [`hash_password`]) was made with.
    fn dummy_phc(password: &[u8], real: &str) -> String {
        use argon2::password_hash::Output;
        let params = real.split('$').nth(3).unwrap();
        let salt = SaltString::encode_b64(DUMMY_SALT).unwrap();
        let out = Output::new(&dummy_hash(password)).unwrap();
        format!("$argon2id$v=19${params}${salt}${out}")
    }

    #[test]
    fn dummy_verification_costs_a_real_verification() {
        // The dummy is one full Argon2id computation with the parameters of
        // real hashes: its output verifies as a hash made with them (a
        // skipped, failed or cheaper computation would not).
        let real = hash_password(b"pw").unwrap();
        for password in [&b"whatever"[..], b"", b"pw"] {
            let phc = dummy_phc(password, &real);
            assert!(verify_password(password, &phc), "{phc}");
            assert!(!verify_password(b"other", &phc), "{phc}");
            verify_against_dummy(password);
        }
        assert_ne!(dummy_hash(b"a"), dummy_hash(b"b"));
        assert_ne!(dummy_hash(b""), [0u8; OUTPUT_LEN]);
    }
}
