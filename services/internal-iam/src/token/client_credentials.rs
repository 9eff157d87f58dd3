//! `grant_type=client_credentials`: a certificate-bound service token (steps 15–16).

use std::collections::BTreeSet;

use tokens::claims::{Audience, Confirmation, Scopes, ServiceTokenClaims};
use url::Url;
use workload_identity::PeerIdentity;

use super::Refusal;
use super::form::{Form, printable};
use super::response::Authorized;
use crate::audit::{self, AuditEvent};
use crate::ids::new_jti;
use crate::registry::RegisteredWorkload;
use crate::state::AppState;

/// Checks the request against the caller's registration and prepares the token's claims.
pub(super) fn authorize(
    state: &AppState,
    peer: &PeerIdentity,
    workload: &RegisteredWorkload,
    form: &Form,
    event: &mut AuditEvent,
) -> Result<Authorized, Refusal> {
    let audience = single_target(form)?;
    event.audience = Some(audit::recorded(&audience));
    let registration = &workload.registration;
    let grant = registration.grant_for(&audience).ok_or_else(|| {
        Refusal::invalid_target(format!(
            "{} may not obtain tokens for the audience {}",
            registration.spiffe_id,
            printable(&audience)
        ))
    })?;

    let requested = form.get("scope").ok_or_else(|| {
        Refusal::invalid_scope("scope is required: name the scopes the token needs")
    })?;
    event.scope = Some(audit::recorded(requested));
    let scope = Scopes::parse(requested).map_err(|error| {
        Refusal::invalid_scope(format!("the scope parameter is malformed: {error}"))
    })?;
    if let Some(missing) = scope.iter().find(|scope| !grant.scopes.contains(*scope)) {
        return Err(Refusal::invalid_scope(format!(
            "the scope {} is not granted to {} for {}",
            printable(missing),
            registration.spiffe_id,
            grant.audience
        )));
    }
    // Repeated scope tokens are one scope; the token lists each once.
    let scope = dedup(&scope);
    event.scope = Some(scope.to_string());

    let lifetime = lifetime(state, form)?;
    let jti = new_jti(&state.rng).map_err(|error| Refusal::server_error(error.to_string()))?;
    event.jti = Some(jti.clone());
    let now = state.clock.now();
    let spiffe_id = peer.spiffe_id().to_string();
    Ok(Authorized::Service(Box::new(ServiceTokenClaims {
        iss: state.issuer.clone(),
        sub: spiffe_id.clone(),
        client_id: spiffe_id,
        aud: Audience::one(audience),
        scope,
        jti,
        iat: now,
        exp: now.saturating_add(lifetime),
        // RFC 8705 §3.1: the thumbprint of the certificate this very connection presented.
        cnf: Confirmation::X5tS256(peer.x5t_s256().to_owned()),
    })))
}

/// The one target named by every `audience` and `resource` value (see the module docs).
pub(super) fn single_target(form: &Form) -> Result<String, Refusal> {
    let targets = targets(form)?;
    let mut targets = targets.into_iter();
    match (targets.next(), targets.next()) {
        (None, _) => Err(Refusal::invalid_request(
            "audience (or resource) is required: name the service the token is for",
        )),
        (Some(one), None) => Ok(one),
        (Some(_), Some(_)) => Err(Refusal::invalid_target(
            "a service token has one audience: request one token per service",
        )),
    }
}

/// Every distinct target of the request. `resource` must be an absolute URI without a fragment
/// (RFC 8707 §2); `audience` is any identifier the registrations use (RFC 8693 §2.1).
pub(super) fn targets(form: &Form) -> Result<BTreeSet<String>, Refusal> {
    let mut targets = BTreeSet::new();
    for resource in form.all("resource") {
        let valid = Url::parse(resource).is_ok_and(|url| url.fragment().is_none());
        if !valid {
            return Err(Refusal::invalid_target(format!(
                "the resource {} is not an absolute URI without a fragment (RFC 8707)",
                printable(resource)
            )));
        }
        targets.insert(resource.to_owned());
    }
    targets.extend(form.all("audience").map(str::to_owned));
    Ok(targets)
}

/// The requested lifetime (`expires_in`, whole seconds) or the default.
fn lifetime(state: &AppState, form: &Form) -> Result<i64, Refusal> {
    let lifetimes = &state.lifetimes;
    let max = lifetimes.service_token_max.as_secs();
    let Some(requested) = form.get("expires_in") else {
        return Ok(seconds(lifetimes.service_token.as_secs()));
    };
    let parsed = (requested.len() <= 10 && requested.bytes().all(|b| b.is_ascii_digit()))
        .then(|| requested.parse::<u64>().ok())
        .flatten()
        .filter(|&value| value > 0)
        .ok_or_else(|| {
            Refusal::invalid_request("expires_in must be a whole number of seconds, at least 1")
        })?;
    if parsed > max {
        return Err(Refusal::invalid_request(format!(
            "expires_in {parsed} is over the {max}-second maximum lifetime of a service token"
        )));
    }
    Ok(seconds(parsed))
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The scopes with repeats removed, in first-seen order.
pub(super) fn dedup(scopes: &Scopes) -> Scopes {
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = scopes.iter().filter(|scope| seen.insert(*scope)).collect();
    // Tokens of a parsed list joined by single spaces parse again.
    Scopes::parse(&unique.join(" ")).unwrap_or_else(|_| scopes.clone())
}
