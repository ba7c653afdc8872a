//! Serde helpers: hashes as lowercase hex strings, lists of hashes likewise.

use serde::{Deserialize, Deserializer, Serializer};

use crate::merkle::Hash;

fn decode<E: serde::de::Error>(s: &str) -> Result<Hash, E> {
    let bytes = hex::decode(s).map_err(E::custom)?;
    bytes
        .try_into()
        .map_err(|_| E::custom("expected a 32-byte hex hash"))
}

/// Serialises a hash as hex.
pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

/// Deserialises a hash from hex.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
    decode(&String::deserialize(d)?)
}

/// The same for `Vec<Hash>`.
pub mod list {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Serialises hashes as a list of hex strings.
    pub fn serialize<S: Serializer>(v: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for h in v {
            seq.serialize_element(&hex::encode(h))?;
        }
        seq.end()
    }

    /// Deserialises a list of hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| decode(s))
            .collect()
    }
}
