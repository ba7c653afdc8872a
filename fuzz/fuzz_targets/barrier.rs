//! Barrier open: `coffer_barrier` unsealing and reading arbitrary bytes
//! from physical storage under a fixed unseal key. A forged or damaged
//! value, root key or keyring must be refused with an error, never a
//! panic; a keyring that does parse must encrypt and decrypt faithfully.
//!
//! The first input byte picks what the rest replaces:
//! - 0: a stored value's ciphertext (read through the unsealed barrier),
//! - 1: the wrapped root key (`core/root-key`),
//! - 2: the wrapped keyring (`core/keyring`),
//! - 3: the keyring's plaintext, sealed under the real root key, so the
//!   keyring parser behind the AEAD is reached,
//! - 4: a patch of the real keyring plaintext (two bytes of offset, then
//!   the bytes written there), sealed under the real root key.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use coffer_barrier::{KEYRING_PATH, ROOT_KEY_PATH, SealedBarrier};
use coffer_crypto::{Secret, open_with_key, seal_with_key};
use coffer_storage::{Key, MemoryStorage, Storage};
use libfuzzer_sys::fuzz_target;

const VALUE_PATH: &str = "logical/0000-fuzz/secret";

struct Fixture {
    rt: tokio::runtime::Runtime,
    unseal: Secret<[u8; 32]>,
    root: Secret<[u8; 32]>,
    wrapped_root: Vec<u8>,
    wrapped_keyring: Vec<u8>,
    keyring_plain: Vec<u8>,
}

fn key(path: &str) -> Key {
    Key::new(path).expect("fixed, valid storage key")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let unseal = Secret::new([7u8; 32]);
        let physical = Arc::new(MemoryStorage::new());
        let sealed = SealedBarrier::new(physical.clone());
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        rt.block_on(sealed.initialize(&unseal, now))
            .expect("initialise an empty store");
        let wrapped_root = rt
            .block_on(physical.get(&key(ROOT_KEY_PATH)))
            .expect("read")
            .expect("root key stored");
        let wrapped_keyring = rt
            .block_on(physical.get(&key(KEYRING_PATH)))
            .expect("read")
            .expect("keyring stored");
        let plain_root = open_with_key(unseal.expose(), ROOT_KEY_PATH.as_bytes(), &wrapped_root)
            .expect("the unseal key opens the root key");
        let mut root = Secret::new([0u8; 32]);
        root.expose_mut().copy_from_slice(plain_root.expose());
        let keyring_plain = open_with_key(root.expose(), KEYRING_PATH.as_bytes(), &wrapped_keyring)
            .expect("the root key opens the keyring")
            .expose()
            .clone();
        Fixture {
            rt,
            unseal,
            root,
            wrapped_root,
            wrapped_keyring,
            keyring_plain,
        }
    })
}

/// A store holding `root` and `keyring` as the wrapped keys.
fn store(root: &[u8], keyring: &[u8]) -> Arc<MemoryStorage> {
    let f = fixture();
    let physical = Arc::new(MemoryStorage::new());
    f.rt.block_on(async {
        physical.put(&key(ROOT_KEY_PATH), root.to_vec()).await?;
        physical.put(&key(KEYRING_PATH), keyring.to_vec()).await
    })
    .expect("memory storage accepts writes");
    physical
}

/// Unseals `physical` with the fixed key; when that works, a value must
/// survive a write and a read through the barrier.
fn unseal_and_use(physical: Arc<MemoryStorage>) -> bool {
    let f = fixture();
    let sealed = SealedBarrier::new(physical);
    let Ok(barrier) = f.rt.block_on(sealed.unseal(&f.unseal)) else {
        return false;
    };
    let path = key(VALUE_PATH);
    let written = f.rt.block_on(barrier.put(&path, b"fuzz-value".to_vec()));
    if written.is_ok() {
        let read = f.rt.block_on(barrier.get(&path));
        assert_eq!(
            read.ok().flatten().as_deref(),
            Some(&b"fuzz-value"[..]),
            "a keyring that encrypts must decrypt what it encrypted"
        );
    }
    true
}

fn seal_keyring(plain: &[u8]) -> Vec<u8> {
    let f = fixture();
    seal_with_key(f.root.expose(), KEYRING_PATH.as_bytes(), plain).expect("sealing works")
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            let physical = store(&f.wrapped_root, &f.wrapped_keyring);
            let path = key(VALUE_PATH);
            f.rt.block_on(physical.put(&path, rest.to_vec()))
                .expect("memory storage accepts writes");
            let barrier =
                f.rt.block_on(SealedBarrier::new(physical).unseal(&f.unseal))
                    .expect("the untouched store unseals");
            let read = f.rt.block_on(barrier.get(&path));
            assert!(read.is_err(), "a forged ciphertext was accepted");
        }
        1 => {
            let opened = unseal_and_use(store(rest, &f.wrapped_keyring));
            assert!(
                !opened || rest == f.wrapped_root.as_slice(),
                "a forged root key unsealed the barrier"
            );
        }
        2 => {
            let opened = unseal_and_use(store(&f.wrapped_root, rest));
            assert!(
                !opened || rest == f.wrapped_keyring.as_slice(),
                "a forged keyring blob unsealed the barrier"
            );
        }
        3 => {
            unseal_and_use(store(&f.wrapped_root, &seal_keyring(rest)));
        }
        _ => {
            let Some((offset, patch)) = rest.split_first_chunk::<2>() else {
                return;
            };
            let mut plain = f.keyring_plain.clone();
            let at = usize::from(u16::from_le_bytes(*offset)) % (plain.len() + 1);
            let end = at + patch.len();
            if end > plain.len() {
                plain.resize(end, 0);
            }
            plain[at..end].copy_from_slice(patch);
            unseal_and_use(store(&f.wrapped_root, &seal_keyring(&plain)));
        }
    }
});
