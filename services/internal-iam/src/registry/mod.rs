//! Registrations: which workloads may obtain which tokens.
//!
//! A registration names a workload by SPIFFE ID and lists its *grants* (an audience and the
//! scopes it may request for it) and, optionally, its *exchange right*: the audience a
//! customer's access token must carry for this workload to exchange it for a transaction token.
//! That audience is the workload's own resource identifier at the external IAM (Agent B's API),
//! so a workload can only exchange tokens that were issued to it.
//!
//! Registrations live in the database ([`store`]), are seeded from a policy file ([`policy`])
//! and changed by the admin subcommands; the server reads them from memory ([`LiveRegistry`]).

mod live;
pub mod policy;
pub mod store;

use std::collections::BTreeSet;
use std::fmt;

use tokens::claims::Scopes;
use workload_identity::{SpiffeId, TrustDomain};

pub use live::{LiveRegistry, RegisteredWorkload};

/// The longest audience or resource identifier accepted.
const MAX_AUDIENCE_LEN: usize = 256;

/// What one workload may obtain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub spiffe_id: SpiffeId,
    pub description: String,
    /// One per audience.
    pub grants: Vec<Grant>,
    pub exchange: Option<ExchangeRight>,
}

/// An audience and the scopes the workload may request for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub audience: Audience,
    pub scopes: BTreeSet<String>,
}

/// The right to exchange customer access tokens carrying `subject_audience` in `aud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRight {
    pub subject_audience: Audience,
}

/// An audience or resource identifier: 1 to 256 visible ASCII characters, no spaces (so it can
/// never be confused with a list).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Audience(String);

/// Why a registration is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("{0:?} is not a valid SPIFFE ID: {1}")]
    SpiffeId(String, String),
    #[error("{id} is outside the trust domain {trust_domain}")]
    OtherTrustDomain { id: String, trust_domain: String },
    #[error("the audience {0:?} must be 1 to 256 visible ASCII characters without spaces")]
    Audience(String),
    #[error("the audience {0:?} is granted twice")]
    DuplicateAudience(String),
    #[error("the scopes for {audience:?} are not a valid scope list: {reason}")]
    Scopes { audience: String, reason: String },
    #[error("the registration grants nothing: give it an audience or the exchange right")]
    Empty,
    #[error("a grant in {0:?} is not of the form AUDIENCE=SCOPE[ SCOPE...]")]
    GrantSyntax(String),
}

impl Audience {
    pub fn parse(text: &str) -> Result<Self, RegistrationError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_AUDIENCE_LEN
            && text.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(RegistrationError::Audience(text.chars().take(64).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Grant {
    /// A grant from an audience and a space-separated scope list (RFC 6749 §3.3 syntax).
    pub fn new(audience: &str, scopes: &str) -> Result<Self, RegistrationError> {
        let audience = Audience::parse(audience)?;
        let parsed = Scopes::parse(scopes).map_err(|error| RegistrationError::Scopes {
            audience: audience.to_string(),
            reason: error.to_string(),
        })?;
        Ok(Self {
            audience,
            scopes: parsed.iter().map(str::to_owned).collect(),
        })
    }

    /// From the command line's `AUDIENCE=SCOPE[ SCOPE...]`.
    pub fn from_arg(arg: &str) -> Result<Self, RegistrationError> {
        let (audience, scopes) = arg
            .split_once('=')
            .ok_or_else(|| RegistrationError::GrantSyntax(arg.chars().take(64).collect()))?;
        Self::new(audience, scopes)
    }

    /// The scopes as the space-separated list stored and shown.
    pub fn scope_list(&self) -> String {
        self.scopes
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Registration {
    /// Checks a registration as a whole: a workload of `trust_domain`, each audience granted
    /// once, and something granted.
    pub fn validate(&self, trust_domain: &TrustDomain) -> Result<(), RegistrationError> {
        if !self.spiffe_id.is_member_of(trust_domain) {
            return Err(RegistrationError::OtherTrustDomain {
                id: self.spiffe_id.to_string(),
                trust_domain: trust_domain.as_str().to_owned(),
            });
        }
        let mut seen = BTreeSet::new();
        for grant in &self.grants {
            if !seen.insert(&grant.audience) {
                return Err(RegistrationError::DuplicateAudience(
                    grant.audience.to_string(),
                ));
            }
        }
        if self.grants.is_empty() && self.exchange.is_none() {
            return Err(RegistrationError::Empty);
        }
        Ok(())
    }

    /// The grant for `audience`, if any.
    pub fn grant_for(&self, audience: &str) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|grant| grant.audience.as_str() == audience)
    }
}

/// Parses a SPIFFE ID given by an operator or a policy file.
pub fn parse_spiffe_id(text: &str) -> Result<SpiffeId, RegistrationError> {
    SpiffeId::parse(text).map_err(|error| {
        RegistrationError::SpiffeId(text.chars().take(128).collect(), error.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> TrustDomain {
        TrustDomain::new("demo.test").unwrap()
    }

    fn registration(grants: Vec<Grant>) -> Registration {
        Registration {
            spiffe_id: parse_spiffe_id("spiffe://demo.test/ns/namespace-b/sa/agent-b").unwrap(),
            description: String::new(),
            grants,
            exchange: None,
        }
    }

    #[test]
    fn grants_parse_from_the_command_line() {
        let grant = Grant::from_arg("agent-service-a=cross-namespace:invoke b:c").unwrap();
        assert_eq!(grant.audience.as_str(), "agent-service-a");
        assert_eq!(grant.scope_list(), "b:c cross-namespace:invoke");
        for bad in ["agent-service-a", "=x", "a=", "a=x  y", "a b=x", "a=\"x\""] {
            assert!(Grant::from_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registrations_stay_in_the_trust_domain_and_grant_each_audience_once() {
        let grant = Grant::new("agent-service-a", "x").unwrap();
        assert!(registration(vec![grant.clone()]).validate(&demo()).is_ok());
        assert_eq!(
            registration(vec![grant.clone(), grant.clone()]).validate(&demo()),
            Err(RegistrationError::DuplicateAudience(
                "agent-service-a".into()
            ))
        );
        assert_eq!(
            registration(vec![]).validate(&demo()),
            Err(RegistrationError::Empty)
        );
        let other = TrustDomain::new("other.test").unwrap();
        assert!(matches!(
            registration(vec![grant]).validate(&other),
            Err(RegistrationError::OtherTrustDomain { .. })
        ));
    }
}
