//! The refresh token grant (RFC 6749 §6): rotation on every use, reuse detection, DPoP binding.

use http::HeaderMap;
use tokens::dpop::VerifiedProof;
use wire::OAuthError;

use super::{PUBLIC_CLIENTS_NEED_DPOP, check_dpop, sqlx_error, store_error};
use crate::auth::opaque::Opaque;
use crate::http::audit::{audit_event, audit_in, meta_event};
use crate::http::request::RequestMeta;
use crate::oauth::issue::{self, Grant, TokenResponse};
use crate::oauth::params::Params;
use crate::state::Shared;
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::clients::{AuthMethod, Client};
use crate::store::tokens::{self as token_store, reasons};
use crate::store::users;

pub(super) async fn refresh(
    state: &Shared,
    meta: &RequestMeta,
    headers: &HeaderMap,
    params: &Params,
    client: &Client,
) -> Result<TokenResponse, OAuthError> {
    let Some(presented) = params.get("refresh_token") else {
        return Err(OAuthError::invalid_request("refresh_token is required"));
    };
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let token = Opaque::presented(presented).ok_or_else(invalid)?;
    let pool = state.pool();
    let grant = token_store::get_refresh(pool, &token.hashed())
        .await
        .map_err(store_error)?
        .ok_or_else(invalid)?;
    let now = state.now();
    let event = || AuditEvent {
        client_id: Some(client.client_id.clone()),
        user_id: Some(grant.user_id.clone()),
        ..meta_event(meta)
    };
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if grant.family_revoked_at.is_some() {
        return Err(OAuthError::invalid_grant(
            "the refresh token has been revoked",
        ));
    }
    if grant.rotated_at.is_some() {
        return Err(reused_refresh(state, &grant.family_id, event()).await);
    }
    if now >= grant.expires_at || now >= grant.family_expires_at {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    let scope = match params.get("scope") {
        None => grant.scope.clone(),
        Some(text) => {
            let asked = tokens::claims::Scopes::parse(text)
                .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
            // RFC 6749 §6: a refresh may narrow the scope, never widen it.
            if let Some(extra) = asked.iter().find(|s| !grant.scope.iter().any(|g| g == s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "the scope {extra:?} was not granted originally"
                )));
            }
            asked.iter().map(str::to_owned).collect()
        }
    };
    let required = (client.auth_method == AuthMethod::None).then_some(PUBLIC_CLIENTS_NEED_DPOP);
    let proof = check_dpop(state, headers, grant.dpop_jkt.as_deref(), required)?;

    let user = users::by_id(pool, &grant.user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    // Rotation, the new tokens and the audit record commit together.
    let mut tx = pool.begin().await.map_err(sqlx_error)?;
    if !token_store::rotate_refresh(&mut *tx, &grant.token_hash, now)
        .await
        .map_err(store_error)?
    {
        drop(tx);
        return Err(reused_refresh(state, &grant.family_id, event()).await);
    }
    let jkt = proof.as_ref().map(VerifiedProof::jkt);
    let issued = issue::issue(
        state,
        &mut tx,
        &Grant {
            client_id: &client.client_id,
            user: &user,
            scope: &scope,
            resources: &grant.resources,
            sid: &grant.sid,
            auth_time: grant.auth_time,
            nonce: None,
            access_jkt: jkt,
            refresh_jkt: grant.dpop_jkt.as_deref().or(jkt),
            family_id: &grant.family_id,
            family_expires_at: grant.family_expires_at,
        },
    )
    .await
    .map_err(|error| OAuthError::server_error(crate::http::internal(&error)))?;
    audit_in(
        state,
        &mut tx,
        AuditKind::TokenRefreshed,
        AuditEvent {
            reason: Some(format!("family {}; jti {}", grant.family_id, issued.jti)),
            ..event()
        },
    )
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(sqlx_error)?;
    Ok(issued)
}

/// A rotated refresh token came back: someone holds a copy. Revoke the whole family
/// (RFC 9700 §4.14.2).
async fn reused_refresh(state: &Shared, family_id: &str, event: AuditEvent) -> OAuthError {
    if let Err(error) = token_store::revoke_family(
        state.pool(),
        family_id,
        reasons::REFRESH_REUSED,
        state.now(),
    )
    .await
    {
        tracing::error!(%error, "a reused refresh token's family could not be revoked");
    }
    audit_event(
        state,
        AuditKind::RefreshReuseDetected,
        AuditEvent {
            reason: Some(format!("family {family_id} revoked")),
            ..event
        },
    )
    .await;
    OAuthError::invalid_grant(
        "the refresh token was already used; every token of this grant has been revoked",
    )
}
