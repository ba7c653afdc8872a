//! A zeroize-on-drop container for key material.

use zeroize::Zeroize;

/// Secret bytes (keys, plaintexts, shares). Zeroized on drop; `Debug` prints
/// `[redacted]`. Read it with [`Secret::expose`].
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a secret value (the caller's copy is moved in, not duplicated).
    pub fn new(v: T) -> Self {
        Self(v)
    }

    /// Borrows the secret value. Callers must not log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Mutably borrows the secret value (for filling it in place).
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let s = Secret::new(b"canary-7f3a".to_vec());
        let printed = format!("{s:?} {:#?}", s.clone());
        assert!(!printed.contains("canary"));
        assert!(!printed.contains("99")); // 'c' = 99 as a byte list
        assert_eq!(printed, "[redacted] [redacted]");
        assert_eq!(s.expose(), b"canary-7f3a");
    }

    #[test]
    fn clone_is_independent() {
        let mut a = Secret::new([1u8; 4]);
        let b = a.clone();
        a.expose_mut()[0] = 9;
        assert_eq!(b.expose(), &[1, 1, 1, 1]);
    }
}
