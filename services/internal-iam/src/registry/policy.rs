//! The registration policy file (TOML), e.g. `infra/policy/internal-iam.toml`:
//!
//! ```toml
//! [[registration]]
//! spiffe_id = "spiffe://demo.test/ns/namespace-b/sa/agent-b"
//! description = "Agent B: calls Agent A, carries the customer's context"
//!
//! [[registration.grant]]
//! audience = "agent-service-a"
//! scopes = ["cross-namespace:invoke"]
//!
//! [registration.exchange]
//! subject_audience = "https://agent-b.namespace-b.demo.test"
//! ```
//!
//! Seeding is idempotent: the file is authoritative for the SPIFFE IDs it lists (their
//! registrations are replaced by the file's), and registrations of other SPIFFE IDs, added by
//! an operator, are left alone. Unknown keys are errors, not ignored.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use storage::Database;
use workload_identity::TrustDomain;

use super::store::{self, StoreError};
use super::{Audience, ExchangeRight, Grant, Registration, RegistrationError, parse_spiffe_id};

/// Why a policy file could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the policy file is not valid: {0}")]
    Syntax(String),
    #[error("registration {index} of the policy file: {error}")]
    Registration {
        index: usize,
        error: RegistrationError,
    },
    #[error("the policy file registers {0} twice")]
    Duplicate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default, rename = "registration")]
    registrations: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    spiffe_id: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "grant")]
    grants: Vec<GrantEntry>,
    exchange: Option<ExchangeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantEntry {
    audience: String,
    scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeEntry {
    subject_audience: String,
}

/// Parses and validates a policy for `trust_domain`.
pub fn parse(text: &str, trust_domain: &TrustDomain) -> Result<Vec<Registration>, PolicyError> {
    let file: PolicyFile =
        toml::from_str(text).map_err(|error| PolicyError::Syntax(error.message().to_owned()))?;
    let mut seen = BTreeSet::new();
    let mut registrations = Vec::with_capacity(file.registrations.len());
    for (index, entry) in file.registrations.into_iter().enumerate() {
        let at = |error| PolicyError::Registration {
            index: index + 1,
            error,
        };
        let registration = entry.into_registration().map_err(at)?;
        registration.validate(trust_domain).map_err(at)?;
        if !seen.insert(registration.spiffe_id.to_string()) {
            return Err(PolicyError::Duplicate(registration.spiffe_id.to_string()));
        }
        registrations.push(registration);
    }
    Ok(registrations)
}

/// Reads and parses a policy file.
pub fn read(path: &Path, trust_domain: &TrustDomain) -> Result<Vec<Registration>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, trust_domain)
}

/// Stores every registration of the policy, replacing those of the same SPIFFE IDs. Returns how
/// many were written.
pub async fn seed(
    db: &Database,
    registrations: &[Registration],
    now: i64,
) -> Result<usize, PolicyError> {
    for registration in registrations {
        store::put(db, registration, true, now).await?;
    }
    Ok(registrations.len())
}

impl Entry {
    fn into_registration(self) -> Result<Registration, RegistrationError> {
        let grants = self
            .grants
            .into_iter()
            .map(|grant| Grant::new(&grant.audience, &grant.scopes.join(" ")))
            .collect::<Result<Vec<_>, _>>()?;
        let exchange = self
            .exchange
            .map(|exchange| Audience::parse(&exchange.subject_audience))
            .transpose()?
            .map(|subject_audience| ExchangeRight { subject_audience });
        Ok(Registration {
            spiffe_id: parse_spiffe_id(&self.spiffe_id)?,
            description: self.description,
            grants,
            exchange,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> TrustDomain {
        TrustDomain::new("demo.test").unwrap()
    }

    #[test]
    fn the_shipped_policy_parses() {
        let text = include_str!("../../../../infra/policy/internal-iam.toml");
        let registrations = parse(text, &demo()).unwrap();
        let agent_b = registrations
            .iter()
            .find(|r| r.spiffe_id.as_str() == "spiffe://demo.test/ns/namespace-b/sa/agent-b")
            .unwrap();
        let grant = agent_b.grant_for(wire::audiences::AGENT_SERVICE_A).unwrap();
        assert!(grant.scopes.contains(wire::scopes::CROSS_NAMESPACE_INVOKE));
        assert!(agent_b.exchange.is_some());
    }

    #[test]
    fn unknown_keys_duplicates_and_foreign_ids_are_refused() {
        let unknown = "[[registration]]\nspiffe_id = \"spiffe://demo.test/a\"\nscope = \"x\"\n";
        assert!(matches!(
            parse(unknown, &demo()),
            Err(PolicyError::Syntax(_))
        ));
        let twice = "[[registration]]\nspiffe_id = \"spiffe://demo.test/a\"\n\
                     [registration.exchange]\nsubject_audience = \"x\"\n\
                     [[registration]]\nspiffe_id = \"spiffe://demo.test/a\"\n\
                     [registration.exchange]\nsubject_audience = \"x\"\n";
        assert!(matches!(
            parse(twice, &demo()),
            Err(PolicyError::Duplicate(_))
        ));
        let foreign = "[[registration]]\nspiffe_id = \"spiffe://other.test/a\"\n\
                       [registration.exchange]\nsubject_audience = \"x\"\n";
        assert!(matches!(
            parse(foreign, &demo()),
            Err(PolicyError::Registration {
                index: 1,
                error: RegistrationError::OtherTrustDomain { .. }
            })
        ));
    }
}
