//! The service token the internal IAM issues to workloads (client credentials over mTLS).

use serde::{Deserialize, Serialize};

use super::numeric_date;
use super::{Audience, Confirmation, Scopes};

/// Claims of a service token (step 16): the calling workload, identified by its SPIFFE ID,
/// may call `aud` with `scope`, from the connection whose client certificate has the
/// thumbprint in `cnf.x5t#S256` (RFC 8705 §3).
///
/// Reading one enforces what every service token of this system is: `sub` and `client_id`
/// are the same SPIFFE ID (the workload is its own client; a difference would mean the token
/// speaks for someone else), and the token is certificate-bound. Whether the bound certificate
/// is the peer's on *this* connection is the receiver's check ([`Confirmation::is_certificate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Wire")]
pub struct ServiceTokenClaims {
    pub iss: String,
    /// The calling workload's SPIFFE ID.
    pub sub: String,
    /// Equal to `sub`.
    pub client_id: String,
    pub aud: Audience,
    pub scope: Scopes,
    pub jti: String,
    pub exp: i64,
    pub iat: i64,
    /// Always [`Confirmation::X5tS256`].
    pub cnf: Confirmation,
}

impl ServiceTokenClaims {
    /// The certificate thumbprint the token is bound to.
    pub fn certificate_thumbprint(&self) -> Option<&str> {
        self.cnf.x5t_s256()
    }
}

/// The claims as they arrive, before the invariants above are checked.
#[derive(Deserialize)]
struct Wire {
    iss: String,
    sub: String,
    client_id: String,
    aud: Audience,
    scope: Scopes,
    jti: String,
    #[serde(deserialize_with = "numeric_date::required")]
    exp: i64,
    #[serde(deserialize_with = "numeric_date::required")]
    iat: i64,
    cnf: Confirmation,
}

impl TryFrom<Wire> for ServiceTokenClaims {
    type Error = &'static str;

    fn try_from(wire: Wire) -> Result<Self, Self::Error> {
        // Full SPIFFE ID validation belongs to the workload-identity crate; the receiver
        // compares `sub` with the peer's verified SPIFFE ID, which is the check that matters.
        // This only refuses tokens that could never match one.
        if !wire.sub.starts_with("spiffe://") {
            return Err("a service token's `sub` must be a SPIFFE ID");
        }
        if wire.client_id != wire.sub {
            return Err("a service token's `client_id` must equal its `sub`");
        }
        if wire.cnf.x5t_s256().is_none() {
            return Err("a service token must be bound to a certificate (`cnf.x5t#S256`)");
        }
        Ok(Self {
            iss: wire.iss,
            sub: wire.sub,
            client_id: wire.client_id,
            aud: wire.aud,
            scope: wire.scope,
            jti: wire.jti,
            exp: wire.exp,
            iat: wire.iat,
            cnf: wire.cnf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SVID: &str = "spiffe://example.org/ns/namespace-b/sa/agent-b";
    const THUMB: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn wire() -> serde_json::Value {
        json!({
            "iss": "https://internal-iam", "sub": SVID, "client_id": SVID,
            "aud": "agent-service-a", "scope": "cross-namespace:invoke", "jti": "t1",
            "exp": 1300, "iat": 1000, "cnf": {"x5t#S256": THUMB}
        })
    }

    #[test]
    fn a_well_formed_service_token_round_trips() {
        let claims: ServiceTokenClaims = serde_json::from_value(wire()).unwrap();
        assert_eq!(claims.certificate_thumbprint(), Some(THUMB));
        let again = serde_json::to_value(&claims).unwrap();
        assert_eq!(again, wire());
    }

    #[test]
    fn invariants_are_enforced_on_read() {
        for (member, value, reason) in [
            (
                "client_id",
                json!("spiffe://example.org/other"),
                "must equal its `sub`",
            ),
            ("sub", json!("agent-b"), "must be a SPIFFE ID"),
            (
                "cnf",
                json!({"jkt": THUMB}),
                "must be bound to a certificate",
            ),
        ] {
            let mut token = wire();
            token[member] = value;
            let err = serde_json::from_value::<ServiceTokenClaims>(token).unwrap_err();
            assert!(err.to_string().contains(reason), "{err}");
        }
    }
}
