//! Token lifetimes: Vault's `framework.CalculateTTL`, applied at creation and
//! at renewal.

use coffer_types::duration::time_after;
use std::time::{Duration, SystemTime};

use coffer_types::format_duration;

use crate::{Result, TokenError};

/// The system (or `auth/token/` mount) TTL bounds that apply to tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtlLimits {
    /// TTL given to a token that asks for none (Vault's default: 768h).
    pub default_ttl: Duration,
    /// Longest lifetime of a non-periodic token, counted from its creation.
    pub max_ttl: Duration,
}

impl Default for TtlLimits {
    /// Vault's defaults: 768 hours for both.
    fn default() -> Self {
        let h768 = Duration::from_secs(768 * 3600);
        Self {
            default_ttl: h768,
            max_ttl: h768,
        }
    }
}

/// Go's duration string without zero minute/second tails (`768h`, `1h30m`),
/// as Vault's warnings print it.
pub(crate) fn human_duration(d: Duration) -> String {
    let mut s = format_duration(Duration::from_secs(d.as_secs()));
    if s.ends_with("m0s") {
        s.truncate(s.len() - 2);
    }
    if let Some(i) = s.find("h0m") {
        s.replace_range(i + 1..i + 3, "");
    }
    s
}

/// The smaller of two durations where zero means "none".
pub(crate) fn nonzero_min(a: Duration, b: Duration) -> Duration {
    match (a.is_zero(), b.is_zero()) {
        (true, _) => b,
        (_, true) => a,
        _ => a.min(b),
    }
}

/// The inputs of one TTL calculation.
pub(crate) struct TtlInput {
    /// Requested increment (renewals), zero for none.
    pub increment: Duration,
    /// The TTL asked for at creation, or the token's last TTL at renewal.
    pub backend_ttl: Duration,
    /// Period of a periodic token, zero for none.
    pub period: Duration,
    /// The backend's max TTL (a login's `max_ttl`), zero for none.
    pub backend_max_ttl: Duration,
    /// Explicit max TTL of the token, zero for none.
    pub explicit_max_ttl: Duration,
    /// When the token was created (lifetimes count from here).
    pub start: SystemTime,
    /// Now.
    pub now: SystemTime,
}

/// Vault's `CalculateTTL`: periodic tokens get `period` (capped by the
/// effective max, and by `explicit_max_ttl` counted from `start`); others get
/// the increment, else their TTL, else the default, capped so they never live
/// past `start + min(max_ttl, backend_max_ttl, explicit_max_ttl)`. Returns
/// the TTL and warnings.
pub(crate) fn calculate_ttl(
    limits: TtlLimits,
    input: &TtlInput,
) -> Result<(Duration, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut max_ttl = limits.max_ttl;
    if !input.backend_max_ttl.is_zero() && input.backend_max_ttl < max_ttl {
        max_ttl = input.backend_max_ttl;
    }
    if !input.explicit_max_ttl.is_zero() && input.explicit_max_ttl < max_ttl {
        max_ttl = input.explicit_max_ttl;
    }
    if max_ttl.is_zero() {
        return Err(TokenError::invalid("max TTL must be greater than zero"));
    }
    let (mut ttl, max_valid_time) = if !input.period.is_zero() {
        let mut period = input.period;
        if period > max_ttl {
            warnings.push(format!(
                "period of {:?} exceeded the effective max_ttl of {:?}; period value is capped accordingly",
                human_duration(period),
                human_duration(max_ttl)
            ));
            period = max_ttl;
        }
        let until = (!input.explicit_max_ttl.is_zero())
            .then(|| time_after(input.start, input.explicit_max_ttl));
        (period, until)
    } else {
        let ttl = if !input.increment.is_zero() {
            input.increment
        } else if !input.backend_ttl.is_zero() {
            input.backend_ttl
        } else {
            limits.default_ttl
        };
        (ttl, Some(time_after(input.start, max_ttl)))
    };
    if let Some(max_valid_time) = max_valid_time {
        let max_valid_ttl = match max_valid_time.duration_since(input.now) {
            Ok(d) if !d.is_zero() => d,
            _ => return Err(TokenError::PastMaxTtl),
        };
        if ttl > max_valid_ttl {
            warnings.push(format!(
                "TTL of {:?} exceeded the effective max_ttl of {:?}; TTL value is capped accordingly",
                human_duration(ttl),
                human_duration(max_valid_ttl)
            ));
            ttl = max_valid_ttl;
        }
    }
    Ok((ttl, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600;

    fn input(increment: u64, ttl: u64, period: u64, explicit: u64, age: u64) -> TtlInput {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        TtlInput {
            increment: Duration::from_secs(increment),
            backend_ttl: Duration::from_secs(ttl),
            period: Duration::from_secs(period),
            backend_max_ttl: Duration::ZERO,
            explicit_max_ttl: Duration::from_secs(explicit),
            start,
            now: start + Duration::from_secs(age),
        }
    }

    fn limits() -> TtlLimits {
        TtlLimits {
            default_ttl: Duration::from_secs(H),
            max_ttl: Duration::from_secs(10 * H),
        }
    }

    #[test]
    fn defaults_requests_and_caps() {
        assert_eq!(
            calculate_ttl(limits(), &input(0, 0, 0, 0, 0))
                .unwrap()
                .0
                .as_secs(),
            H
        );
        assert_eq!(
            calculate_ttl(limits(), &input(0, 2 * H, 0, 0, 0))
                .unwrap()
                .0
                .as_secs(),
            2 * H
        );
        let (ttl, warnings) = calculate_ttl(limits(), &input(0, 20 * H, 0, 0, 0)).unwrap();
        assert_eq!(ttl.as_secs(), 10 * H);
        assert_eq!(
            warnings,
            [
                "TTL of \"20h\" exceeded the effective max_ttl of \"10h\"; TTL value is capped accordingly"
            ]
        );
        assert_eq!(
            calculate_ttl(limits(), &input(0, 5 * H, 0, 2 * H, 0))
                .unwrap()
                .0
                .as_secs(),
            2 * H
        );
    }

    #[test]
    fn renewals_count_from_creation() {
        // 9h after creation, a 5h increment is capped to the 1h left of the 10h max.
        assert_eq!(
            calculate_ttl(limits(), &input(5 * H, H, 0, 0, 9 * H))
                .unwrap()
                .0
                .as_secs(),
            H
        );
        assert!(matches!(
            calculate_ttl(limits(), &input(H, H, 0, 0, 10 * H)),
            Err(TokenError::PastMaxTtl)
        ));
    }

    #[test]
    fn periodic_tokens_ignore_the_system_max_lifetime() {
        // 100h after creation a periodic token still renews to its period.
        assert_eq!(
            calculate_ttl(limits(), &input(0, 0, 2 * H, 0, 100 * H))
                .unwrap()
                .0
                .as_secs(),
            2 * H
        );
        // ... unless an explicit max TTL caps it.
        assert_eq!(
            calculate_ttl(limits(), &input(0, 0, 2 * H, 3 * H, 2 * H))
                .unwrap()
                .0
                .as_secs(),
            H
        );
        // A period above the max is capped to it.
        assert_eq!(
            calculate_ttl(limits(), &input(0, 0, 20 * H, 0, 0))
                .unwrap()
                .0
                .as_secs(),
            10 * H
        );
    }

    #[test]
    fn backend_max_ttl_caps_like_vault() {
        let mut i = input(0, 5 * H, 0, 0, 0);
        i.backend_max_ttl = Duration::from_secs(2 * H);
        assert_eq!(calculate_ttl(limits(), &i).unwrap().0.as_secs(), 2 * H);
        // A backend max above the system max changes nothing.
        i.backend_max_ttl = Duration::from_secs(20 * H);
        assert_eq!(calculate_ttl(limits(), &i).unwrap().0.as_secs(), 5 * H);
        // Periods are capped by it too.
        let mut p = input(0, 0, 3 * H, 0, 0);
        p.backend_max_ttl = Duration::from_secs(H);
        assert_eq!(calculate_ttl(limits(), &p).unwrap().0.as_secs(), H);
    }

    #[test]
    fn human_durations_match_vault() {
        assert_eq!(human_duration(Duration::from_secs(768 * H)), "768h");
        assert_eq!(human_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human_duration(Duration::from_secs(3601)), "1h1s");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m30s");
    }
}
