//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6): design steps 7 and 8.

use http::HeaderMap;
use telemetry::StepTimer;
use tokens::dpop::VerifiedProof;
use wire::{OAuthError, Program, steps};

use super::{PUBLIC_CLIENTS_NEED_DPOP, check_dpop, sqlx_error, store_error};
use crate::auth::opaque::{Opaque, random_id};
use crate::config::secs;
use crate::http::audit::{audit_event, audit_in, meta_event};
use crate::http::request::RequestMeta;
use crate::oauth::issue::{self, Grant, TokenResponse};
use crate::oauth::params::Params;
use crate::oauth::pkce::{CodeChallenge, PkceError};
use crate::state::Shared;
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::clients::{AuthMethod, Client};
use crate::store::tokens::{self as token_store, NewFamily, reasons};
use crate::store::{codes, users};

pub(super) async fn redeem_code(
    state: &Shared,
    meta: &RequestMeta,
    headers: &HeaderMap,
    params: &Params,
    client: &Client,
    step: Option<StepTimer>,
) -> Result<TokenResponse, OAuthError> {
    let step = step.unwrap_or_else(|| {
        StepTimer::start(Program::ExternalIam, steps::CODE_REDEEMED, &meta.request_id)
    });
    let reject = |step: StepTimer, error: OAuthError| {
        step.rejected("code redemption", &error.to_string());
        error
    };
    let (Some(code), Some(verifier)) = (params.get("code"), params.get("code_verifier")) else {
        let missing = if params.get("code").is_none() {
            "code"
        } else {
            "code_verifier"
        };
        return Err(reject(
            step,
            OAuthError::invalid_request(format!("{missing} is required")),
        ));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(reject(
            step,
            OAuthError::invalid_request("redirect_uri is required"),
        ));
    };
    let invalid_code =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
    let Some(code) = Opaque::presented(code) else {
        return Err(reject(step, invalid_code()));
    };
    let now = state.now();
    let pool = state.pool();
    let grant = codes::get(pool, &code.hashed())
        .await
        .map_err(store_error)?;
    let Some(grant) = grant else {
        return Err(reject(step, invalid_code()));
    };
    let event = || AuditEvent {
        client_id: Some(client.client_id.clone()),
        user_id: Some(grant.user_id.clone()),
        ..meta_event(meta)
    };
    if grant.redeemed_at.is_some() {
        return Err(reject(
            step,
            replayed_code(state, &grant.code_hash, event()).await,
        ));
    }
    if now >= grant.expires_at {
        return Err(reject(
            step,
            OAuthError::invalid_grant("the authorization code has expired"),
        ));
    }
    if grant.client_id != client.client_id {
        return Err(reject(
            step,
            OAuthError::invalid_grant("the authorization code was issued to another client"),
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(reject(
            step,
            OAuthError::invalid_grant(
                "redirect_uri differs from the one in the authorization request",
            ),
        ));
    }
    let challenge = CodeChallenge::stored(&grant.code_challenge)
        .ok_or_else(|| OAuthError::server_error("internal error"))?;
    match challenge.verify(verifier) {
        Ok(()) => {}
        Err(PkceError::Mismatch) => {
            return Err(reject(
                step,
                OAuthError::invalid_grant("code_verifier does not match the code_challenge"),
            ));
        }
        Err(other) => return Err(reject(step, OAuthError::invalid_request(other.to_string()))),
    }
    let required = (client.auth_method == AuthMethod::None).then_some(PUBLIC_CLIENTS_NEED_DPOP);
    let proof = match check_dpop(state, headers, grant.dpop_jkt.as_deref(), required) {
        Ok(proof) => proof,
        Err(error) => return Err(reject(step, error)),
    };

    let Some(user) = users::by_id(pool, &grant.user_id)
        .await
        .map_err(store_error)?
    else {
        return Err(reject(
            step,
            OAuthError::invalid_grant("the account no longer exists"),
        ));
    };
    let family_id =
        random_id(&state.rng).map_err(|e| OAuthError::server_error(crate::http::internal(&e)))?;
    let family_expires_at = now + secs(state.config.refresh_family_lifetime);

    // Every check passed. Claiming the code, starting the family, registering the tokens and
    // auditing all commit in one transaction: either the client gets tokens and the code is
    // spent, or nothing happened. Losing the claim means another request redeemed the code a
    // moment ago, which is a replay like any other.
    let mut tx = pool.begin().await.map_err(sqlx_error)?;
    if !codes::redeem(&mut *tx, &grant.code_hash, now)
        .await
        .map_err(store_error)?
    {
        drop(tx);
        return Err(reject(
            step,
            replayed_code(state, &grant.code_hash, event()).await,
        ));
    }
    token_store::insert_family(
        &mut *tx,
        &NewFamily {
            id: &family_id,
            code_hash: &grant.code_hash,
            client_id: &client.client_id,
            user_id: &user.id,
            sid: &grant.sid,
            now,
            expires_at: family_expires_at,
        },
    )
    .await
    .map_err(store_error)?;
    audit_in(
        state,
        &mut tx,
        AuditKind::CodeRedeemed,
        AuditEvent {
            reason: Some(format!("family {family_id}")),
            ..event()
        },
    )
    .await
    .map_err(store_error)?;

    let tokens_step = StepTimer::start(
        Program::ExternalIam,
        steps::TOKENS_RECEIVED,
        &meta.request_id,
    );
    let jkt = proof.as_ref().map(VerifiedProof::jkt);
    let issued = issue::issue(
        state,
        &mut tx,
        &Grant {
            client_id: &client.client_id,
            user: &user,
            scope: &grant.scope,
            resources: &grant.resources,
            sid: &grant.sid,
            auth_time: grant.auth_time,
            nonce: grant.nonce.as_deref(),
            access_jkt: jkt,
            refresh_jkt: jkt,
            family_id: &family_id,
            family_expires_at,
        },
    )
    .await;
    let tokens = match issued {
        Ok(tokens) => tokens,
        Err(error) => {
            tokens_step.failed("token issuance", "internal error");
            return Err(OAuthError::server_error(crate::http::internal(&error)));
        }
    };
    audit_in(
        state,
        &mut tx,
        AuditKind::TokenIssued,
        AuditEvent {
            reason: Some(format!("jti {} ({})", tokens.jti, tokens.token_type)),
            ..event()
        },
    )
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(sqlx_error)?;
    step.ok("code, client, redirect_uri and PKCE verifier checked");
    tokens_step.ok(if jkt.is_some() {
        "ID token and DPoP-bound access token returned"
    } else {
        "ID token and access token returned"
    });
    Ok(tokens)
}

/// A second redemption: refuse, and revoke everything the first one issued (RFC 6749 §4.1.2,
/// RFC 9700 §4.5.3).
async fn replayed_code(state: &Shared, code_hash: &str, event: AuditEvent) -> OAuthError {
    let now = state.now();
    let mut revoked = Vec::new();
    match token_store::families_of_code(state.pool(), code_hash).await {
        Ok(families) => {
            for family in families {
                match token_store::revoke_family(state.pool(), &family, reasons::CODE_REPLAYED, now)
                    .await
                {
                    Ok(_) => revoked.push(family),
                    Err(error) => tracing::error!(%error, "a token family could not be revoked"),
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, "token families of a replayed code could not be read")
        }
    }
    audit_event(
        state,
        AuditKind::CodeReplayed,
        AuditEvent {
            reason: Some(format!("revoked families: {}", revoked.join(", "))),
            ..event
        },
    )
    .await;
    OAuthError::invalid_grant(
        "the authorization code was already used; the tokens issued for it have been revoked",
    )
}
