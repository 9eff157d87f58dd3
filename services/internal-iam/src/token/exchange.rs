//! RFC 8693 token exchange: the customer's access token for a transaction token (steps 15–16).

use serde_json::{Map, Value};
use telemetry::RequestId;
use tokens::ValidationError;
use tokens::claims::{
    AccessTokenClaims, Audience, RequestingWorkloads, Scopes, TransactionTokenClaims,
};
use wire::TokenType;
use wire::claims as claim;
use workload_identity::PeerIdentity;

use super::Refusal;
use super::client_credentials::{dedup, targets};
use super::form::{Form, printable};
use super::response::Authorized;
use crate::audit::AuditEvent;
use crate::ids::new_jti;
use crate::registry::RegisteredWorkload;
use crate::state::AppState;

/// Checks the exchange right, the request and the subject token, and prepares the claims.
pub(super) async fn authorize(
    state: &AppState,
    peer: &PeerIdentity,
    workload: &RegisteredWorkload,
    form: &Form,
    request_id: &RequestId,
    event: &mut AuditEvent,
) -> Result<Authorized, Refusal> {
    let Some(validator) = &workload.subject_validator else {
        return Err(Refusal::unauthorized_client(format!(
            "{} may not use token exchange: its registration has no exchange right",
            workload.registration.spiffe_id
        )));
    };
    if form.has("expires_in") {
        return Err(Refusal::invalid_request(
            "expires_in is accepted with client_credentials only; a transaction token's lifetime is fixed",
        ));
    }
    if form.has("actor_token") || form.has("actor_token_type") {
        return Err(Refusal::invalid_request(
            "delegation (actor_token) is not supported",
        ));
    }
    let subject_token = form
        .get("subject_token")
        .ok_or_else(|| Refusal::invalid_request("subject_token is required"))?;
    match form.get("subject_token_type") {
        None => return Err(Refusal::invalid_request("subject_token_type is required")),
        Some(kind) if kind == TokenType::AccessToken.as_str() => {}
        Some(kind) => {
            return Err(Refusal::invalid_request(format!(
                "subject_token_type {} is not supported: only {} is exchanged",
                printable(kind),
                TokenType::AccessToken
            )));
        }
    }
    match form.get("requested_token_type") {
        None => {}
        Some(kind) if kind == TokenType::TxnToken.as_str() => {}
        Some(kind) => {
            return Err(Refusal::invalid_request(format!(
                "requested_token_type {} is not supported: only {} is issued",
                printable(kind),
                TokenType::TxnToken
            )));
        }
    }
    let trust_domain = state.trust_domain.as_str();
    event.audience = Some(trust_domain.to_owned());
    if let Some(other) = targets(form)?
        .into_iter()
        .find(|target| target != trust_domain)
    {
        return Err(Refusal::invalid_target(format!(
            "a transaction token's audience is the trust domain {trust_domain}, not {}",
            printable(&other)
        )));
    }

    let subject = validator
        .validate::<AccessTokenClaims>(subject_token)
        .await
        .map_err(|error| match error {
            ValidationError::KeysUnavailable(why) => Refusal::temporarily_unavailable(format!(
                "the external IAM's keys are unavailable, so the subject token cannot be checked: {why}"
            )),
            other => Refusal::invalid_grant(format!("the subject token was refused: {other}")),
        })?
        .into_claims();
    event.subject = Some(subject.sub.clone());
    event.subject_jti = Some(subject.jti.clone());

    let scope = match form.get("scope") {
        None => subject.scope.clone(),
        Some(requested) => {
            let requested = Scopes::parse(requested).map_err(|error| {
                Refusal::invalid_scope(format!("the scope parameter is malformed: {error}"))
            })?;
            if let Some(wider) = requested
                .iter()
                .find(|scope| !subject.scope.contains(scope))
            {
                return Err(Refusal::invalid_scope(format!(
                    "the scope {} is not in the subject token's scope; a transaction token is never wider",
                    printable(wider)
                )));
            }
            // Repeated scope tokens are one scope; the token lists each once.
            dedup(&requested)
        }
    };
    event.scope = Some(scope.to_string());

    let now = state.clock.now();
    let lifetime = i64::try_from(state.lifetimes.txn_token.as_secs()).unwrap_or(60);
    // A transaction token vouches for the customer's authorization, so it must not outlive it:
    // a customer token with 10 seconds left yields a transaction token with 10 seconds left.
    let exp = now.saturating_add(lifetime).min(subject.exp);
    if exp <= now {
        // Within the validator's clock-skew leeway, but with no life left to hand on.
        return Err(Refusal::invalid_grant(format!(
            "the subject token expired at {} (now {now})",
            subject.exp
        )));
    }
    let jti = new_jti(&state.rng).map_err(|error| Refusal::server_error(error.to_string()))?;
    event.jti = Some(jti.clone());
    // Immutable facts about the customer's authorization, for the services down the chain.
    let mut tctx = Map::new();
    tctx.insert(claim::ISS.to_owned(), Value::String(subject.iss.clone()));
    tctx.insert(
        claim::SCOPE.to_owned(),
        Value::String(subject.scope.to_string()),
    );
    Ok(Authorized::Transaction(Box::new(TransactionTokenClaims {
        iss: state.issuer.clone(),
        aud: Audience::one(trust_domain),
        iat: now,
        exp,
        txn: request_id.to_string(),
        sub: subject.sub,
        scope,
        tctx,
        rctx: None,
        req_wl: RequestingWorkloads::one(peer.spiffe_id().to_string()),
        jti: Some(jti),
    })))
}
