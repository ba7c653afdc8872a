//! Serde helpers for times and durations in stored records, for
//! `#[serde(with = "...")]`: integer nanoseconds (serde's default spells out
//! `{"secs_since_epoch": .., "nanos_since_epoch": ..}` for every time and
//! `{"secs": .., "nanos": ..}` for every duration).
//!
//! Reading accepts both forms, so records written in serde's form still
//! decode. A value too large for 64 bits of nanoseconds (past the year 2554,
//! or a duration of more than 584 years) is written in serde's form, so
//! every value reads back exactly.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serializer};

/// A duration in either stored form.
struct Stored(Duration);

impl<'de> Deserialize<'de> for Stored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StoredVisitor)
    }
}

struct StoredVisitor;

impl<'de> Visitor<'de> for StoredVisitor {
    type Value = Stored;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("integer nanoseconds, or seconds and nanoseconds")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Stored, E> {
        Ok(Stored(Duration::from_nanos(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Stored, E> {
        u64::try_from(v)
            .map(|v| Stored(Duration::from_nanos(v)))
            .map_err(|_| E::custom("a stored time or duration cannot be negative"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Stored, A::Error> {
        let (mut secs, mut nanos) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "secs" | "secs_since_epoch" => secs = Some(map.next_value::<u64>()?),
                "nanos" | "nanos_since_epoch" => nanos = Some(map.next_value::<u32>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let secs = secs.ok_or_else(|| de::Error::missing_field("secs"))?;
        let nanos = nanos.ok_or_else(|| de::Error::missing_field("nanos"))?;
        if nanos >= 1_000_000_000 {
            return Err(de::Error::custom("nanoseconds out of range"));
        }
        Ok(Stored(Duration::new(secs, nanos)))
    }
}

/// Writes `d` as integer nanoseconds, or as `{secs, nanos}` with the field
/// names `names` when it does not fit in 64 bits.
fn write<S: Serializer>(d: Duration, names: [&'static str; 2], s: S) -> Result<S::Ok, S::Error> {
    match u64::try_from(d.as_nanos()) {
        Ok(n) => s.serialize_u64(n),
        Err(_) => {
            let mut st = s.serialize_struct("Stored", 2)?;
            st.serialize_field(names[0], &d.as_secs())?;
            st.serialize_field(names[1], &d.subsec_nanos())?;
            st.end()
        }
    }
}

/// Time since the epoch (zero for times before it, which Coffer never
/// stores).
fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

/// A [`SystemTime`].
pub mod time {
    use super::*;

    /// Serializes `t`.
    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        write(
            since_epoch(*t),
            ["secs_since_epoch", "nanos_since_epoch"],
            s,
        )
    }

    /// Deserializes a time in either form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let Stored(since) = Stored::deserialize(d)?;
        SystemTime::UNIX_EPOCH
            .checked_add(since)
            .ok_or_else(|| de::Error::custom("time out of range"))
    }
}

/// An `Option<SystemTime>` (`null` for `None`).
pub mod option_time {
    use super::*;

    /// Serializes `t`.
    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&Wrapped(*t)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes `null` or a time in either form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        Option::<Stored>::deserialize(d)?
            .map(|Stored(since)| {
                SystemTime::UNIX_EPOCH
                    .checked_add(since)
                    .ok_or_else(|| de::Error::custom("time out of range"))
            })
            .transpose()
    }

    struct Wrapped(SystemTime);

    impl serde::Serialize for Wrapped {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            time::serialize(&self.0, s)
        }
    }
}

/// A [`Duration`].
pub mod duration {
    use super::*;

    /// Serializes `d`.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        write(*d, ["secs", "nanos"], s)
    }

    /// Deserializes a duration in either form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Stored::deserialize(d).map(|Stored(d)| d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        #[serde(with = "time")]
        at: SystemTime,
        #[serde(with = "option_time")]
        until: Option<SystemTime>,
        #[serde(with = "duration")]
        ttl: Duration,
    }

    /// The same record as serde writes it by default.
    #[derive(Serialize)]
    struct Legacy {
        at: SystemTime,
        until: Option<SystemTime>,
        ttl: Duration,
    }

    fn at(secs: u64, nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn written_as_nanoseconds_and_read_back() {
        let r = Record {
            at: at(1_700_000_000, 123_456_789),
            until: None,
            ttl: Duration::from_secs(3600),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"at": 1_700_000_000_123_456_789u64, "until": null, "ttl": 3_600_000_000_000u64})
        );
        assert_eq!(serde_json::from_value::<Record>(v).unwrap(), r);
    }

    #[test]
    fn serde_default_form_still_reads() {
        let legacy = Legacy {
            at: at(1_700_000_000, 5),
            until: Some(at(1_800_000_000, 999_999_999)),
            ttl: Duration::new(90, 7),
        };
        let back: Record = serde_json::from_value(serde_json::to_value(&legacy).unwrap()).unwrap();
        assert_eq!(
            back,
            Record {
                at: legacy.at,
                until: legacy.until,
                ttl: legacy.ttl
            }
        );
    }

    #[test]
    fn values_beyond_64_bits_round_trip_exactly() {
        let r = Record {
            at: at(40_000_000_000, 1),
            until: Some(at(40_000_000_000, 2)),
            ttl: Duration::new(u64::MAX, 999_999_999),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["ttl"], json!({"secs": u64::MAX, "nanos": 999_999_999}));
        assert_eq!(serde_json::from_value::<Record>(v).unwrap(), r);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for bad in [
            json!({"at": -1, "until": null, "ttl": 0}),
            json!({"at": "soon", "until": null, "ttl": 0}),
            json!({"at": {"secs_since_epoch": 1}, "until": null, "ttl": 0}),
            json!({"at": 0, "until": null, "ttl": {"secs": 1, "nanos": 1_000_000_000u64}}),
            json!({"at": {"secs_since_epoch": u64::MAX, "nanos_since_epoch": 0}, "until": null, "ttl": 0}),
        ] {
            assert!(
                serde_json::from_value::<Record>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
