//! Password generation from the OS CSPRNG.
//!
//! Each rule's `min-chars` are drawn first from that rule's charset, the
//! rest of the password from the union of every charset, and the whole is
//! then shuffled (Fisher-Yates), so the required characters sit at random
//! positions. Every draw is uniform (rejection sampling in
//! [`coffer_crypto::random_index`]). Unlike Vault's guess-and-check loop this
//! always finishes in one pass, however restrictive the policy.

use coffer_crypto::{random_from_charset, random_shuffle};
use coffer_types::Sensitive;
use zeroize::Zeroize;

use crate::error::PasswordPolicyError;
use crate::policy::PasswordPolicy;

impl PasswordPolicy {
    /// A fresh password that satisfies every rule. Fails only when the OS
    /// random number generator does (500); a password that broke a rule
    /// would be discarded, never returned.
    pub fn generate(&self) -> Result<Sensitive, PasswordPolicyError> {
        let mut chars: Vec<char> = Vec::with_capacity(self.length);
        let result = self.fill(&mut chars);
        let password = match result {
            Ok(()) if self.accepts_chars(&chars) => {
                // Sized up front: no reallocation leaves a stray copy behind.
                let mut s = String::with_capacity(chars.iter().map(|c| c.len_utf8()).sum());
                s.extend(chars.iter());
                Ok(Sensitive::new(s))
            }
            Ok(()) => Err(PasswordPolicyError::Invariant),
            Err(e) => Err(e),
        };
        chars.zeroize();
        password
    }

    fn fill(&self, chars: &mut Vec<char>) -> Result<(), PasswordPolicyError> {
        for rule in &self.rules {
            let mut forced = random_from_charset(rule.charset(), rule.min_chars())?;
            chars.extend_from_slice(&forced);
            forced.zeroize();
        }
        // Validation guarantees the rules' minimums fit within the length.
        let rest = self.length.saturating_sub(chars.len());
        let mut filler = random_from_charset(&self.charset, rest)?;
        chars.extend_from_slice(&filler);
        filler.zeroize();
        random_shuffle(chars)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const POLICIES: &[&str] = &[
        // Vault's documentation examples.
        "length = 20\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz\"\n}\n",
        "length = 20\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"0123456789\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"!@#$%^&*\"\n  min-chars = 1\n}\n",
        "length = 8\nrule \"charset\" {\n  charset = \"abcde\"\n}\nrule \"charset\" {\n  charset = \"01234\"\n  min-chars = 1\n}\n",
        // Overlapping rules.
        "length = 6\nrule \"charset\" {\n  charset = \"abcde\"\n  min-chars = 3\n}\nrule \"charset\" {\n  charset = \"cdefg\"\n  min-chars = 3\n}\n",
        // Restrictive: every position forced, rare characters required.
        "length = 4\nrule \"charset\" {\n  charset = \"!\"\n  min-chars = 2\n}\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"\n  min-chars = 2\n}\n",
        // Multi-byte characters.
        "length = 10\nrule \"charset\" {\n  charset = \"äöüß€\"\n  min-chars = 2\n}\nrule \"charset\" {\n  charset = \"xyz\"\n  min-chars = 2\n}\n",
    ];

    #[test]
    fn generated_passwords_satisfy_every_rule() {
        let mut policies: Vec<PasswordPolicy> = POLICIES
            .iter()
            .map(|p| PasswordPolicy::parse(p).unwrap())
            .collect();
        policies.push(PasswordPolicy::default_policy());
        for policy in &policies {
            for _ in 0..1000 {
                let pw = policy.generate().unwrap();
                let chars: Vec<char> = pw.expose().chars().collect();
                assert_eq!(chars.len(), policy.length());
                assert!(chars.iter().all(|c| policy.charset().contains(c)));
                for rule in policy.rules() {
                    let n = chars.iter().filter(|c| rule.charset().contains(c)).count();
                    assert!(n >= rule.min_chars(), "rule broken by a generated password");
                }
            }
        }
    }

    #[test]
    fn every_charset_character_appears() {
        let policy = PasswordPolicy::default_policy();
        let mut counts: HashMap<char, usize> = HashMap::new();
        let draws = 500;
        for _ in 0..draws {
            for c in policy.generate().unwrap().expose().chars() {
                *counts.entry(c).or_default() += 1;
            }
        }
        assert_eq!(counts.len(), 63, "every one of a-z A-Z 0-9 - appears");
        // 10,000 characters over 63 symbols: about 159 each (the dash a bit
        // more, being forced once per password). A biased generator that
        // favoured the front of the charset would break these bounds.
        for (c, n) in &counts {
            assert!((60..=700).contains(n), "{c:?} appeared {n} times");
        }
    }

    #[test]
    fn forced_characters_move_around() {
        // Every position is forced and exactly one is the `!`: it must not
        // always sit in the same place.
        let policy = PasswordPolicy::parse(
            "length = 4\nrule \"charset\" {\n  charset = \"!\"\n  min-chars = 1\n}\nrule \"charset\" {\n  charset = \"ab\"\n  min-chars = 3\n}\n",
        )
        .unwrap();
        let mut positions = [0usize; 4];
        for _ in 0..800 {
            let pw = policy.generate().unwrap();
            assert_eq!(pw.expose().matches('!').count(), 1);
            if let Some(i) = pw.expose().find('!') {
                positions[i] += 1;
            }
        }
        // About 200 each.
        assert!(positions.iter().all(|&n| n > 120), "{positions:?}");
    }

    #[test]
    fn passwords_differ_and_stay_out_of_debug() {
        let policy = PasswordPolicy::default_policy();
        let a = policy.generate().unwrap();
        let b = policy.generate().unwrap();
        assert_ne!(a, b);
        for shown in [
            format!("{a:?}"),
            format!("{a}"),
            format!("{:?}", Ok::<_, ()>(&a)),
        ] {
            assert!(!shown.contains(a.expose()));
        }
    }
}
