//! The calling workload, proven by its certificate-bound service token (design step 17, first
//! half).
//!
//! `authorization: Bearer <token>` must hold a service token of the internal IAM: `typ: at+jwt`,
//! ES256 (pinned), `iss` the IAM, `aud` `agent-service-a`, unexpired, scope
//! `cross-namespace:invoke`. Then the token must belong to *this connection*:
//!
//! - `cnf.x5t#S256` equals the SHA-256 thumbprint of the client certificate the peer presented
//!   in this TLS handshake (RFC 8705 §3). A token copied from Agent B and replayed by another
//!   workload over its own connection fails here, however valid its signature;
//! - `sub` equals the peer's SPIFFE ID, so the IAM's statement of whom the token was issued to
//!   agrees with who is calling.
//!
//! A missing scope is `PERMISSION_DENIED`, everything else `UNAUTHENTICATED`: see
//! [`crate::refusal`].

use std::time::Duration;

use tokens::claims::ServiceTokenClaims;
use tokens::validate::BuildError;
use tokens::{Algorithm, KeySource, SharedClock, ValidationError, Validator};
use tonic::metadata::MetadataMap;
use wire::audiences::AGENT_SERVICE_A;
use wire::jose::TYP_ACCESS_TOKEN;
use wire::metadata::AUTHORIZATION;
use wire::scopes::CROSS_NAMESPACE_INVOKE;
use wire::{AuthScheme, Credentials};
use workload_identity::{PeerIdentity, SpiffeId};

/// The design: service tokens live 5 minutes by default, never more than 15. One valid for
/// longer is refused whatever its issuer wrote.
pub const MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Why the service token was refused. `Display` never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error("a service token is required: authorization: Bearer <token>")]
    Missing,
    #[error("authorization appears more than once")]
    Repeated,
    #[error("authorization is not a well-formed Bearer credential")]
    Malformed,
    #[error("the service token was refused: {0}")]
    Invalid(ValidationError),
    #[error(
        "the service token is bound to another certificate: its cnf.x5t#S256 is not the \
         thumbprint of the client certificate on this connection"
    )]
    NotBoundToConnection { jti: String },
    #[error("the service token was issued to {sub}, but the caller is {peer}")]
    SubjectIsNotPeer {
        jti: String,
        sub: String,
        peer: SpiffeId,
    },
}

impl CallerError {
    /// The `jti` of a token whose signature and claims were verified before a later check
    /// refused it. A token that failed verification has no `jti` worth recording: it would be
    /// whatever the sender wrote.
    pub fn verified_jti(&self) -> Option<&str> {
        match self {
            Self::NotBoundToConnection { jti } | Self::SubjectIsNotPeer { jti, .. } => Some(jti),
            _ => None,
        }
    }
}

/// Validates service tokens against the connection they arrive on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServiceTokenValidator(Validator);

/// A caller whose service token passed every check, bound to this connection. Only
/// [`ServiceTokenValidator::verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedCaller {
    peer: PeerIdentity,
    claims: ServiceTokenClaims,
}

impl ServiceTokenValidator {
    pub fn new(
        issuer: &str,
        keys: impl Into<KeySource>,
        clock: SharedClock,
    ) -> Result<Self, BuildError> {
        Validator::builder()
            .issuer(issuer)
            .audience(AGENT_SERVICE_A)
            .typ(TYP_ACCESS_TOKEN)
            // Pinned to what the IAM signs with.
            .algorithms(&[Algorithm::Es256])
            .require(&["sub", "client_id", "jti", "iat", "cnf"])
            .require_scopes(&[CROSS_NAMESPACE_INVOKE])
            .max_lifetime(MAX_LIFETIME)
            .clock(clock)
            .keys(keys)
            .build()
            .map(Self)
    }

    /// Reads the Bearer token from `metadata` and checks it, and its binding to `peer`.
    pub async fn verify(
        &self,
        peer: &PeerIdentity,
        metadata: &MetadataMap,
    ) -> Result<VerifiedCaller, CallerError> {
        let token = bearer_token(metadata)?;
        let claims = self
            .0
            .validate::<ServiceTokenClaims>(token)
            .await
            .map_err(CallerError::Invalid)?
            .into_claims();
        // Thumbprints are public values: a plain comparison leaks nothing.
        if claims.certificate_thumbprint() != Some(peer.x5t_s256()) {
            return Err(CallerError::NotBoundToConnection { jti: claims.jti });
        }
        if claims.sub != peer.spiffe_id().as_str() {
            return Err(CallerError::SubjectIsNotPeer {
                jti: claims.jti,
                sub: claims.sub,
                peer: peer.spiffe_id().clone(),
            });
        }
        Ok(VerifiedCaller {
            peer: peer.clone(),
            claims,
        })
    }
}

impl VerifiedCaller {
    /// The caller's SPIFFE ID (the peer's, equal to the token's `sub`).
    pub fn spiffe_id(&self) -> &SpiffeId {
        self.peer.spiffe_id()
    }

    /// The peer of the connection the token was verified against.
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    /// The service token's `jti`: how it appears in logs and the audit trail.
    pub fn jti(&self) -> &str {
        &self.claims.jti
    }

    pub fn claims(&self) -> &ServiceTokenClaims {
        &self.claims
    }
}

/// The token of the single `authorization: Bearer` value. Another scheme, or none, is a missing
/// service token; two values are refused rather than one chosen.
fn bearer_token(metadata: &MetadataMap) -> Result<&str, CallerError> {
    let mut values = metadata.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(CallerError::Missing)?;
    if values.next().is_some() {
        return Err(CallerError::Repeated);
    }
    let value = value.to_str().map_err(|_| CallerError::Malformed)?;
    match Credentials::parse(value) {
        Ok(credentials) if credentials.scheme() == AuthScheme::Bearer => Ok(credentials.token()),
        Ok(_) => Err(CallerError::Missing),
        Err(wire::CredentialsError::Malformed) => Err(CallerError::Malformed),
        Err(_) => Err(CallerError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    fn metadata(values: &[&'static str]) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        for value in values {
            metadata.append(AUTHORIZATION, MetadataValue::from_static(value));
        }
        metadata
    }

    #[test]
    fn reads_exactly_one_bearer_token() {
        assert_eq!(bearer_token(&metadata(&["Bearer a.b.c"])), Ok("a.b.c"));
        assert_eq!(bearer_token(&metadata(&["bearer a.b.c"])), Ok("a.b.c"));
        assert_eq!(bearer_token(&metadata(&[])), Err(CallerError::Missing));
        assert_eq!(
            bearer_token(&metadata(&["DPoP a.b.c"])),
            Err(CallerError::Missing)
        );
        assert_eq!(
            bearer_token(&metadata(&["Basic dXNlcg=="])),
            Err(CallerError::Missing)
        );
        assert_eq!(
            bearer_token(&metadata(&["Bearer a.b.c", "Bearer d.e.f"])),
            Err(CallerError::Repeated)
        );
        assert_eq!(
            bearer_token(&metadata(&["Bearer a b"])),
            Err(CallerError::Malformed)
        );
    }

    #[test]
    fn only_verified_tokens_report_their_jti() {
        let unbound = CallerError::NotBoundToConnection { jti: "t1".into() };
        assert_eq!(unbound.verified_jti(), Some("t1"));
        assert_eq!(
            CallerError::Invalid(ValidationError::MissingKid).verified_jti(),
            None
        );
    }
}
