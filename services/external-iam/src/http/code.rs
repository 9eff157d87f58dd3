//! Issuing the authorization code at the end of a login (or from the SSO session), and the
//! redirects back to the client (design step 5).

use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use telemetry::StepTimer;
use wire::{ErrorCode, Program, steps};

use super::audit::{audit_event, meta_event};
use super::pages;
use super::request::RequestMeta;
use crate::auth::opaque::Opaque;
use crate::config::CODE_LIFETIME;
use crate::oauth::authorize::{AuthorizationRequest, ErrorRedirect, redirect_url};
use crate::state::Shared;
use crate::store::audit::{AuditEvent, AuditKind};
use crate::store::codes::{self, CodeGrant};
use crate::store::users::User;

/// Scopes every customer may be granted; others need an entitlement on the account.
const UNRESTRICTED_SCOPES: [&str; 3] = [
    wire::scopes::OPENID,
    wire::scopes::PROFILE,
    crate::oauth::EMAIL_SCOPE,
];

/// Granted = requested ∩ allowed for the client (checked at `/authorize`) ∩ entitled for the
/// customer. A scope the customer lacks is left out, not refused: the client learns what was
/// granted from the token response's `scope` and decides (the web app answers 403).
pub fn granted_scope(requested: &[String], user: &User) -> Vec<String> {
    requested
        .iter()
        .filter(|s| UNRESTRICTED_SCOPES.contains(&s.as_str()) || user.entitlements.contains(s))
        .cloned()
        .collect()
}

/// The 303 to the client with an error (RFC 6749 §4.1.2.1), `state` and `iss`.
pub fn error_redirect(state: &Shared, error: &ErrorRedirect) -> Response {
    let url = redirect_url(
        &error.redirect_uri,
        &[
            ("error", error.error),
            ("error_description", &error.description),
        ],
        error.state.as_deref(),
        state.config.issuer.as_str(),
    );
    Redirect::to(&url).into_response()
}

/// Issues a code for `user` and redirects to the client with it.
pub async fn issue_code(
    state: &Shared,
    meta: &RequestMeta,
    request: &AuthorizationRequest,
    user: &User,
    sid: &str,
    auth_time: i64,
) -> Response {
    let step = StepTimer::start(
        Program::ExternalIam,
        steps::AUTHORIZATION_CODE_ISSUED,
        &meta.request_id,
    );
    let scope = granted_scope(&request.scope, user);
    if scope.is_empty() {
        step.rejected(
            "scope",
            "none of the requested scopes can be granted to this customer",
        );
        return error_redirect(
            state,
            &ErrorRedirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: ErrorCode::AccessDenied.as_str(),
                description: "none of the requested scopes can be granted to this account".into(),
            },
        );
    }
    let now = state.now();
    let code = match Opaque::generate(&state.rng) {
        Ok(code) => code,
        Err(error) => {
            step.failed("code", "no randomness");
            return pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                meta.request_id.as_str(),
                "Something went wrong",
                super::internal(&error),
            );
        }
    };
    let grant = CodeGrant {
        code_hash: code.hashed(),
        client_id: request.client_id.clone(),
        user_id: user.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope,
        resources: request.resources.clone(),
        dpop_jkt: request.dpop_jkt.clone(),
        sid: sid.to_owned(),
        auth_time,
        issued_at: now,
        expires_at: now + CODE_LIFETIME,
        redeemed_at: None,
    };
    if let Err(error) = codes::insert(state.pool(), &grant).await {
        step.failed("code", "storage");
        return pages::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            meta.request_id.as_str(),
            "Something went wrong",
            super::internal(&error),
        );
    }
    audit_event(
        state,
        AuditKind::CodeIssued,
        AuditEvent {
            client_id: Some(request.client_id.clone()),
            user_id: Some(user.id.clone()),
            ..meta_event(meta)
        },
    )
    .await;
    step.ok("one-time code issued; redirect carries state and iss");
    let url = redirect_url(
        &request.redirect_uri,
        &[("code", code.expose())],
        request.state.as_deref(),
        state.config.issuer.as_str(),
    );
    Redirect::to(&url).into_response()
}
