//! The common `token_*` parameters of auth methods (Vault's `tokenutil`):
//! their field declarations, parsing on create/update (including the
//! deprecated `policies`, `ttl`, `max_ttl`, `period` and `bound_cidrs` names),
//! how they read back, and how they become a [`LoginGrant`]. Also Vault's
//! policy-list helpers ([`sanitize_policies`], [`equivalent_policies`]) that
//! auth methods use on update and on renewal.

use std::time::Duration;

use coffer_types::{LoginGrant, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cidr::{CidrBlock, parse_cidrs};
use crate::{FieldData, FieldDef, FieldType, SdkError};

/// The deprecated names some auth methods still accept, as Vault keeps them:
/// stored apart from the `token_*` values so reads show them as Vault does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LegacyTokenFields {
    /// `policies`.
    pub policies: Vec<String>,
    /// `ttl`.
    #[serde(with = "secs")]
    pub ttl: Duration,
    /// `max_ttl`.
    #[serde(with = "secs")]
    pub max_ttl: Duration,
    /// `period`.
    #[serde(with = "secs")]
    pub period: Duration,
    /// `bound_cidrs`.
    pub bound_cidrs: Vec<String>,
}

/// The token parameters of a user or role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenFields {
    /// `token_policies`.
    pub policies: Vec<String>,
    /// `token_ttl`; zero for the mount default.
    #[serde(with = "secs")]
    pub ttl: Duration,
    /// `token_max_ttl`; zero for the mount maximum.
    #[serde(with = "secs")]
    pub max_ttl: Duration,
    /// `token_period`; zero for non-periodic tokens.
    #[serde(with = "secs")]
    pub period: Duration,
    /// `token_explicit_max_ttl`; zero for none.
    #[serde(with = "secs")]
    pub explicit_max_ttl: Duration,
    /// `token_num_uses`; zero for unlimited.
    pub num_uses: u64,
    /// `token_bound_cidrs`, in Vault's canonical form (`10.0.0.0/8`,
    /// `127.0.0.1` for a single host).
    pub bound_cidrs: Vec<String>,
    /// `token_type`: `default`, `service` or `batch`.
    pub token_type: String,
    /// `token_no_default_policy`.
    pub no_default_policy: bool,
    /// The deprecated names, as last written.
    pub legacy: LegacyTokenFields,
}

impl Default for TokenFields {
    fn default() -> Self {
        Self {
            policies: Vec::new(),
            ttl: Duration::ZERO,
            max_ttl: Duration::ZERO,
            period: Duration::ZERO,
            explicit_max_ttl: Duration::ZERO,
            num_uses: 0,
            bound_cidrs: Vec::new(),
            token_type: "default".to_owned(),
            no_default_policy: false,
            legacy: LegacyTokenFields::default(),
        }
    }
}

const PERIOD_HELP: &str = "If set, tokens created via this role will have no max lifetime; \
instead, their renewal period will be fixed to this value. This takes an integer number of \
seconds, or a string duration (e.g. \"24h\").";
const EXPLICIT_MAX_TTL_HELP: &str = "If set, tokens created via this role carry an explicit \
maximum TTL. During renewal, the current maximum TTL values of the role and the mount are not \
checked for changes, and any updates to these values will have no effect on the token being \
renewed.";

impl TokenFields {
    /// `token_bound_cidrs`.
    pub const TOKEN_BOUND_CIDRS: FieldDef = FieldDef::new(
        "token_bound_cidrs",
        FieldType::StringList,
        "Comma separated string or JSON list of CIDR blocks. If set, specifies the blocks of \
         IP addresses which are allowed to use the generated token.",
    );
    /// `token_explicit_max_ttl`.
    pub const TOKEN_EXPLICIT_MAX_TTL: FieldDef = FieldDef::new(
        "token_explicit_max_ttl",
        FieldType::Duration,
        EXPLICIT_MAX_TTL_HELP,
    );
    /// `token_max_ttl`.
    pub const TOKEN_MAX_TTL: FieldDef = FieldDef::new(
        "token_max_ttl",
        FieldType::Duration,
        "The maximum lifetime of the generated token",
    );
    /// `token_no_default_policy`.
    pub const TOKEN_NO_DEFAULT_POLICY: FieldDef = FieldDef::new(
        "token_no_default_policy",
        FieldType::Bool,
        "If true, the 'default' policy will not automatically be added to generated tokens",
    );
    /// `token_period`.
    pub const TOKEN_PERIOD: FieldDef =
        FieldDef::new("token_period", FieldType::Duration, PERIOD_HELP);
    /// `token_policies`.
    pub const TOKEN_POLICIES: FieldDef = FieldDef::new(
        "token_policies",
        FieldType::StringList,
        "Comma-separated list of policies",
    );
    /// `token_type`.
    pub const TOKEN_TYPE: FieldDef = FieldDef::new(
        "token_type",
        FieldType::String,
        "The type of token to generate, service or batch",
    );
    /// `token_ttl`.
    pub const TOKEN_TTL: FieldDef = FieldDef::new(
        "token_ttl",
        FieldType::Duration,
        "The initial ttl of the token to generate",
    );
    /// `token_num_uses`.
    pub const TOKEN_NUM_USES: FieldDef = FieldDef::new(
        "token_num_uses",
        FieldType::Int,
        "The maximum number of times a token may be used, a value of zero means unlimited",
    );
    /// Deprecated `policies`.
    pub const LEGACY_POLICIES: FieldDef = FieldDef::new(
        "policies",
        FieldType::StringList,
        "Use \"token_policies\" instead. If this and \"token_policies\" are both specified, \
         only \"token_policies\" will be used.",
    );
    /// Deprecated `ttl`.
    pub const LEGACY_TTL: FieldDef = FieldDef::new(
        "ttl",
        FieldType::Duration,
        "Use \"token_ttl\" instead. If this and \"token_ttl\" are both specified, only \
         \"token_ttl\" will be used.",
    );
    /// Deprecated `max_ttl`.
    pub const LEGACY_MAX_TTL: FieldDef = FieldDef::new(
        "max_ttl",
        FieldType::Duration,
        "Use \"token_max_ttl\" instead. If this and \"token_max_ttl\" are both specified, only \
         \"token_max_ttl\" will be used.",
    );
    /// Deprecated `period`.
    pub const LEGACY_PERIOD: FieldDef = FieldDef::new(
        "period",
        FieldType::Duration,
        "Use \"token_period\" instead. If this and \"token_period\" are both specified, only \
         \"token_period\" will be used.",
    );
    /// Deprecated `bound_cidrs`.
    pub const LEGACY_BOUND_CIDRS: FieldDef = FieldDef::new(
        "bound_cidrs",
        FieldType::StringList,
        "Use \"token_bound_cidrs\" instead. If this and \"token_bound_cidrs\" are both \
         specified, only \"token_bound_cidrs\" will be used.",
    );

    /// The `token_*` fields only.
    pub const TOKEN_FIELDS: &'static [FieldDef] = &[
        Self::TOKEN_BOUND_CIDRS,
        Self::TOKEN_EXPLICIT_MAX_TTL,
        Self::TOKEN_MAX_TTL,
        Self::TOKEN_NO_DEFAULT_POLICY,
        Self::TOKEN_PERIOD,
        Self::TOKEN_POLICIES,
        Self::TOKEN_TYPE,
        Self::TOKEN_TTL,
        Self::TOKEN_NUM_USES,
    ];

    /// The `token_*` fields and every deprecated name. A path should declare
    /// only the deprecated names its method accepts (userpass: `policies`,
    /// `ttl`, `max_ttl`, `bound_cidrs`; AppRole: `policies`, `period`):
    /// [`TokenFields::parse_update`] ignores names the path does not declare.
    pub const FIELDS: &'static [FieldDef] = &[
        Self::TOKEN_BOUND_CIDRS,
        Self::TOKEN_EXPLICIT_MAX_TTL,
        Self::TOKEN_MAX_TTL,
        Self::TOKEN_NO_DEFAULT_POLICY,
        Self::TOKEN_PERIOD,
        Self::TOKEN_POLICIES,
        Self::TOKEN_TYPE,
        Self::TOKEN_TTL,
        Self::TOKEN_NUM_USES,
        Self::LEGACY_POLICIES,
        Self::LEGACY_TTL,
        Self::LEGACY_MAX_TTL,
        Self::LEGACY_PERIOD,
        Self::LEGACY_BOUND_CIDRS,
    ];

    /// Applies the fields present in `d` (a create or update), validating as
    /// Vault's `ParseTokenFields` does, then the deprecated names as Vault's
    /// `UpgradeValue` does. Names the path does not declare are ignored. On
    /// error `self` may be partly updated: callers discard it.
    pub fn parse_update(&mut self, d: &FieldData) -> Result<()> {
        // Only names the path declares: a deprecated alias a path does not
        // declare is not one of its fields.
        let given = |name: &str| d.declares(name) && d.is_set(name);

        if given("token_bound_cidrs") {
            self.bound_cidrs = canonical_cidrs(d.get_string_list("token_bound_cidrs")?)?;
        }
        if given("token_explicit_max_ttl") {
            self.explicit_max_ttl = whole_secs(d.get_duration("token_explicit_max_ttl")?);
        }
        if given("token_max_ttl") {
            self.max_ttl = whole_secs(d.get_duration("token_max_ttl")?);
        }
        if given("token_no_default_policy") {
            self.no_default_policy = d.get_bool("token_no_default_policy")?.unwrap_or(false);
        }
        if given("token_period") {
            self.period = whole_secs(d.get_duration("token_period")?);
        }
        if given("token_policies") {
            self.policies = d.get_string_list("token_policies")?.unwrap_or_default();
        }
        if given("token_type") {
            let raw = d.get_string("token_type")?.unwrap_or_default();
            self.token_type = match raw.as_str() {
                "" | "default" => "default",
                "service" => "service",
                "batch" => "batch",
                _ => {
                    return Err(SdkError::InvalidTokenType(raw).into());
                }
            }
            .to_owned();
        }
        if given("token_num_uses") {
            match d.get_int("token_num_uses")?.unwrap_or(0) {
                n if n < 0 => return Err(SdkError::NegativeTokenNumUses.into()),
                n => self.num_uses = n.unsigned_abs(),
            }
        }
        if self.token_type == "batch" {
            if !self.period.is_zero() {
                return Err(SdkError::BatchTokenPeriodic.into());
            }
            if self.num_uses != 0 {
                return Err(SdkError::BatchTokenNumUses.into());
            }
        }
        if given("token_ttl") {
            self.ttl = whole_secs(d.get_duration("token_ttl")?);
        }
        if !self.ttl.is_zero() && !self.max_ttl.is_zero() && self.ttl > self.max_ttl {
            return Err(SdkError::TokenTtlAboveMax.into());
        }

        // Deprecated names: used only when the new name is absent; when both
        // are given the old one mirrors the new; when only the new one is
        // given the old one is cleared.
        if given("policies") || given("token_policies") {
            self.legacy.policies = match (given("policies"), given("token_policies")) {
                (true, false) => {
                    let p = sanitize_policies(d.get_string_list("policies")?.unwrap_or_default());
                    self.policies = p.clone();
                    p
                }
                (true, true) => self.policies.clone(),
                _ => Vec::new(),
            };
        }
        if let Some(v) = upgrade_duration(d, &given, "ttl", &mut self.legacy.ttl, self.ttl)? {
            self.ttl = v;
        }
        if let Some(v) =
            upgrade_duration(d, &given, "max_ttl", &mut self.legacy.max_ttl, self.max_ttl)?
        {
            self.max_ttl = v;
        }
        if let Some(v) =
            upgrade_duration(d, &given, "period", &mut self.legacy.period, self.period)?
        {
            self.period = v;
        }
        if given("bound_cidrs") || given("token_bound_cidrs") {
            self.legacy.bound_cidrs = match (given("bound_cidrs"), given("token_bound_cidrs")) {
                (true, false) => {
                    let c = canonical_cidrs(d.get_string_list("bound_cidrs")?)?;
                    self.bound_cidrs = c.clone();
                    c
                }
                (true, true) => self.bound_cidrs.clone(),
                _ => Vec::new(),
            };
        }
        Ok(())
    }

    /// Writes the read-back form into `map`, exactly as Vault's
    /// `PopulateTokenData` plus the deprecated names that were set.
    pub fn to_response_map(&self, map: &mut Map<String, Value>) {
        let list = |v: &[String]| Value::from(v.to_vec());
        map.insert("token_bound_cidrs".into(), list(&self.bound_cidrs));
        map.insert(
            "token_explicit_max_ttl".into(),
            self.explicit_max_ttl.as_secs().into(),
        );
        map.insert("token_max_ttl".into(), self.max_ttl.as_secs().into());
        map.insert(
            "token_no_default_policy".into(),
            self.no_default_policy.into(),
        );
        map.insert("token_period".into(), self.period.as_secs().into());
        map.insert("token_policies".into(), list(&self.policies));
        map.insert("token_type".into(), self.token_type.clone().into());
        map.insert("token_ttl".into(), self.ttl.as_secs().into());
        map.insert("token_num_uses".into(), self.num_uses.into());

        if !self.legacy.ttl.is_zero() {
            map.insert("ttl".into(), self.legacy.ttl.as_secs().into());
        }
        if !self.legacy.max_ttl.is_zero() {
            map.insert("max_ttl".into(), self.legacy.max_ttl.as_secs().into());
        }
        if !self.legacy.period.is_zero() {
            map.insert("period".into(), self.legacy.period.as_secs().into());
        }
        if !self.legacy.policies.is_empty() {
            map.insert("policies".into(), list(&self.policies));
        }
        if !self.legacy.bound_cidrs.is_empty() {
            map.insert("bound_cidrs".into(), list(&self.legacy.bound_cidrs));
        }
    }

    /// Copies the token parameters into a login grant, as Vault's
    /// `PopulateTokenAuth` does (the token is renewable).
    pub fn apply_to_grant(&self, grant: &mut LoginGrant) {
        grant.bound_cidrs = self.bound_cidrs.clone();
        grant.explicit_max_ttl = self.explicit_max_ttl;
        grant.max_ttl = self.max_ttl;
        grant.no_default_policy = self.no_default_policy;
        grant.period = self.period;
        grant.policies = self.policies.clone();
        grant.renewable = true;
        grant.token_type = self.token_type.clone();
        grant.ttl = self.ttl;
        grant.num_uses = self.num_uses;
    }

    /// The parsed `token_bound_cidrs`, for checking a login's client address.
    pub fn bound_cidr_blocks(&self) -> Result<Vec<CidrBlock>> {
        parse_cidrs(&self.bound_cidrs)
    }
}

/// Handles one deprecated duration name; returns the new value for the
/// `token_*` field when the old name alone was given.
fn upgrade_duration(
    d: &FieldData,
    given: &dyn Fn(&str) -> bool,
    old: &str,
    legacy: &mut Duration,
    current: Duration,
) -> Result<Option<Duration>> {
    let new = format!("token_{old}");
    match (given(old), given(&new)) {
        (true, false) => {
            *legacy = whole_secs(d.get_duration(old)?);
            Ok(Some(*legacy))
        }
        (true, true) => {
            *legacy = current;
            Ok(None)
        }
        (false, true) => {
            *legacy = Duration::ZERO;
            Ok(None)
        }
        (false, false) => Ok(None),
    }
}

/// Vault's durations here are whole seconds.
fn whole_secs(d: Option<Duration>) -> Duration {
    Duration::from_secs(d.map_or(0, |d| d.as_secs()))
}

/// Vault's `policyutil.ParsePolicies`: trimmed, lowercased, deduplicated,
/// sorted; `root` alone if present.
pub fn sanitize_policies(mut items: Vec<String>) -> Vec<String> {
    if items.iter().any(|p| p == "root") {
        items = vec!["root".to_owned()];
    }
    let mut out: Vec<String> = items
        .iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Vault's `policyutil.EquivalentPolicies`: the same set of policies,
/// ignoring order, duplicates and `default` (case-sensitive); an empty list
/// equals only an empty list or `["default"]`.
pub fn equivalent_policies(a: &[String], b: &[String]) -> bool {
    let only_default = |v: &[String]| v.len() == 1 && v[0] == "default";
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return true,
        (true, false) => return only_default(b),
        (false, true) => return only_default(a),
        (false, false) => {}
    }
    let set = |v: &[String]| {
        v.iter()
            .filter(|p| p.as_str() != "default")
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    set(a) == set(b)
}

/// Validates CIDR blocks and renders them as Vault does (a full-length
/// prefix is shown as the bare address).
fn canonical_cidrs(items: Option<Vec<String>>) -> Result<Vec<String>> {
    let blocks = parse_cidrs(&items.unwrap_or_default())?;
    Ok(blocks
        .iter()
        .map(|b| {
            let s = b.to_string();
            match s.rsplit_once('/') {
                Some((addr, "32")) if !addr.contains(':') => addr.to_owned(),
                Some((addr, "128")) if addr.contains(':') => addr.to_owned(),
                _ => s,
            }
        })
        .collect())
}

/// Durations stored as whole seconds.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USERPASS_LIKE: &[FieldDef] = &[
        TokenFields::TOKEN_BOUND_CIDRS,
        TokenFields::TOKEN_EXPLICIT_MAX_TTL,
        TokenFields::TOKEN_MAX_TTL,
        TokenFields::TOKEN_NO_DEFAULT_POLICY,
        TokenFields::TOKEN_PERIOD,
        TokenFields::TOKEN_POLICIES,
        TokenFields::TOKEN_TYPE,
        TokenFields::TOKEN_TTL,
        TokenFields::TOKEN_NUM_USES,
        TokenFields::LEGACY_POLICIES,
        TokenFields::LEGACY_TTL,
        TokenFields::LEGACY_MAX_TTL,
        TokenFields::LEGACY_BOUND_CIDRS,
    ];

    fn parse(t: &mut TokenFields, body: Value, fields: &[FieldDef]) -> Result<()> {
        let map = body.as_object().unwrap().clone();
        let d = FieldData::new(&map, fields)?;
        t.parse_update(&d)
    }

    fn read(t: &TokenFields) -> Value {
        let mut m = Map::new();
        t.to_response_map(&mut m);
        Value::Object(m)
    }

    #[test]
    fn defaults_read_back_like_vault() {
        assert_eq!(
            read(&TokenFields::default()),
            json!({
                "token_bound_cidrs": [], "token_explicit_max_ttl": 0, "token_max_ttl": 0,
                "token_no_default_policy": false, "token_period": 0, "token_policies": [],
                "token_type": "default", "token_ttl": 0, "token_num_uses": 0
            })
        );
    }

    #[test]
    fn token_fields_round_trip() {
        let mut t = TokenFields::default();
        parse(
            &mut t,
            json!({
                "token_policies": "a,B", "token_ttl": "1h", "token_max_ttl": 7200,
                "token_period": "30m", "token_explicit_max_ttl": "3h", "token_num_uses": 3,
                "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1"], "token_type": "service",
                "token_no_default_policy": true
            }),
            TokenFields::FIELDS,
        )
        .unwrap();
        assert_eq!(
            read(&t),
            json!({
                "token_bound_cidrs": ["10.0.0.0/8", "127.0.0.1"], "token_explicit_max_ttl": 10800,
                "token_max_ttl": 7200, "token_no_default_policy": true, "token_period": 1800,
                "token_policies": ["a", "B"], "token_type": "service", "token_ttl": 3600,
                "token_num_uses": 3
            })
        );
        let stored = serde_json::to_value(&t).unwrap();
        assert_eq!(serde_json::from_value::<TokenFields>(stored).unwrap(), t);

        let mut g = LoginGrant::default();
        t.apply_to_grant(&mut g);
        assert_eq!(g.policies, vec!["a", "B"]);
        assert_eq!(g.ttl, Duration::from_secs(3600));
        assert_eq!(g.max_ttl, Duration::from_secs(7200));
        assert_eq!(g.period, Duration::from_secs(1800));
        assert_eq!(g.explicit_max_ttl, Duration::from_secs(10800));
        assert_eq!(g.num_uses, 3);
        assert!(g.renewable && g.no_default_policy);
        assert_eq!(g.token_type, "service");
        assert_eq!(g.bound_cidrs, vec!["10.0.0.0/8", "127.0.0.1"]);
        assert_eq!(t.bound_cidr_blocks().unwrap().len(), 2);
    }

    #[test]
    fn legacy_names_upgrade_and_read_back() {
        let mut t = TokenFields::default();
        parse(
            &mut t,
            json!({"policies": "Dev, ops,dev", "ttl": 60, "max_ttl": "2m", "bound_cidrs": "10.1.0.0/16"}),
            USERPASS_LIKE,
        )
        .unwrap();
        assert_eq!(t.policies, vec!["dev", "ops"]);
        assert_eq!(t.ttl, Duration::from_secs(60));
        assert_eq!(t.max_ttl, Duration::from_secs(120));
        assert_eq!(t.bound_cidrs, vec!["10.1.0.0/16"]);
        let r = read(&t);
        assert_eq!(r["policies"], json!(["dev", "ops"]));
        assert_eq!(r["ttl"], json!(60));
        assert_eq!(r["max_ttl"], json!(120));
        assert_eq!(r["bound_cidrs"], json!(["10.1.0.0/16"]));

        // Writing only the new names clears the deprecated ones.
        parse(
            &mut t,
            json!({"token_policies": ["x"], "token_ttl": 30, "token_max_ttl": 90, "token_bound_cidrs": []}),
            USERPASS_LIKE,
        )
        .unwrap();
        let r = read(&t);
        for old in ["policies", "ttl", "max_ttl", "bound_cidrs"] {
            assert!(r.get(old).is_none(), "{old} still shown: {r}");
        }
        assert_eq!(r["token_policies"], json!(["x"]));
        assert_eq!(r["token_ttl"], json!(30));

        // Both given: the new one wins and the old one mirrors it.
        parse(
            &mut t,
            json!({"policies": "old", "token_policies": "new", "ttl": 5, "token_ttl": 10}),
            USERPASS_LIKE,
        )
        .unwrap();
        assert_eq!(t.policies, vec!["new"]);
        let r = read(&t);
        assert_eq!(r["policies"], json!(["new"]));
        assert_eq!(r["ttl"], json!(10));
    }

    #[test]
    fn undeclared_legacy_names_are_ignored() {
        let mut t = TokenFields::default();
        parse(&mut t, json!({"period": 60}), USERPASS_LIKE).unwrap();
        assert!(t.period.is_zero());
        parse(&mut t, json!({"period": 60}), TokenFields::FIELDS).unwrap();
        assert_eq!(t.period, Duration::from_secs(60));
        assert_eq!(read(&t)["period"], json!(60));
    }

    #[test]
    fn vault_validation_errors() {
        let cases = [
            (
                json!({"token_type": "weird"}),
                "invalid 'token_type' value \"weird\"",
            ),
            (
                json!({"token_num_uses": -1}),
                "'token_num_uses' cannot be negative",
            ),
            (
                json!({"token_ttl": 100, "token_max_ttl": 10}),
                "'token_ttl' cannot be greater than 'token_max_ttl'",
            ),
            (
                json!({"token_type": "batch", "token_period": 10}),
                "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens",
            ),
            (
                json!({"token_type": "batch", "token_num_uses": 2}),
                "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count",
            ),
        ];
        for (body, msg) in cases {
            let err = parse(
                &mut TokenFields::default(),
                body.clone(),
                TokenFields::FIELDS,
            )
            .unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert!(err.to_string().contains(msg), "{body}: {err}");
        }
        let err = parse(
            &mut TokenFields::default(),
            json!({"token_bound_cidrs": "10.0.0.0/99"}),
            TokenFields::FIELDS,
        )
        .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn policy_helpers() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(sanitize_policies(v(&[" B", "a", "b", ""])), v(&["a", "b"]));
        assert!(equivalent_policies(
            &v(&["a", "b"]),
            &v(&["b", "default", "a", "a"])
        ));
        assert!(equivalent_policies(&[], &v(&["default"])));
        assert!(!equivalent_policies(&v(&["a"]), &v(&["A"])));
        assert!(!equivalent_policies(&v(&["a"]), &v(&["a", "b"])));
    }

    #[test]
    fn root_policy_alone_and_ipv6_host() {
        let mut t = TokenFields::default();
        parse(
            &mut t,
            json!({"policies": "a,root", "token_bound_cidrs": "::1, fd00::/8"}),
            TokenFields::FIELDS,
        )
        .unwrap();
        assert_eq!(t.policies, vec!["root"]);
        assert_eq!(t.bound_cidrs, vec!["::1", "fd00::/8"]);
    }
}
