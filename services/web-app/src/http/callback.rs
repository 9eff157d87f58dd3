//! `GET /auth/callback`: the end of a login (design steps 6 to 9).
//!
//! Step 6 checks the response belongs to the login this browser started: the pre-login cookie
//! names a stored login (taken out of the table, so it is used once whatever happens next),
//! `iss` is the configured issuer (RFC 9207: required, because the IAM advertises it; this is
//! the mix-up defence), and `state` is the one stored (constant-time comparison). Only then is
//! an `error` read or the `code` redeemed. Step 7 redeems the code (PKCE verifier, DPoP proof);
//! step 8 checks the answer and validates the ID token. Step 9 replaces whatever session the browser had with a new one
//! under a new id (no session fixation) and sends the browser to the chat.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use telemetry::{RequestId, StepTimer};
use wire::chat::TimelineStep;
use wire::{Program, steps};

use super::pages::{error_page, internal_error};
use super::{RequestMeta, paths};
use crate::oidc::OidcError;
use crate::session::{Opaque, PendingLogin, Session, constant_time_eq, store};
use crate::state::{AppState, Shared};
use crate::timeline;

const FAILED: &str = "Sign-in could not be completed";

/// The longest `code` sent on to the token endpoint. The IAM's codes are 43 characters; a much
/// longer one is not a code, and forwarding it would only make the IAM refuse a large request.
const MAX_CODE_LEN: usize = 512;

/// The callback's query parameters, each at most once (RFC 6749 §3.1).
#[derive(Debug, Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

impl Callback {
    fn parse(query: &str) -> Result<Self, &'static str> {
        let mut callback = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "iss" => &mut callback.iss,
                "error" => &mut callback.error,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err("a parameter is repeated");
            }
        }
        Ok(callback)
    }
}

pub async fn callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut response = finish(&state, &meta, &headers, query.as_deref().unwrap_or("")).await;
    // The pre-login cookie has done its job, whatever the outcome.
    if let Some(cookie) = state.cookies.clear_login() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn finish(state: &Shared, meta: &RequestMeta, headers: &HeaderMap, query: &str) -> Response {
    let pending = match state.cookies.login(headers) {
        Some(id) => store::take_pending(state.pool(), &id, state.now()).await,
        None => Ok(None),
    };
    let pending = match pending {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            StepTimer::start(
                Program::WebApp,
                steps::CALLBACK_STATE_CHECKED,
                meta.request_id(),
            )
            .rejected(
                "pending login",
                "no login in progress for this browser (pre-login cookie missing, expired or used)",
            );
            return refused(
                StatusCode::BAD_REQUEST,
                meta.request_id(),
                "This sign-in link has expired or was already used. Please start again.",
            );
        }
        Err(error) => return internal_error(meta.request_id().as_str(), &error),
    };
    // The login's steps are reported under the request id it started with.
    let request_id =
        RequestId::parse(&pending.request_id).unwrap_or_else(|_| meta.request_id().clone());

    // Step 6.
    let timer = StepTimer::start(Program::WebApp, steps::CALLBACK_STATE_CHECKED, &request_id);
    let check = check_response(state, &pending, query);
    let code = match check {
        Ok(code) => code,
        Err(refusal) => {
            timer.rejected("iss and state", refusal.reason);
            return refused(refusal.status, &request_id, refusal.message);
        }
    };
    let step6 = timer.ok_with_detail(
        "iss and state",
        "iss is the issuer; state matches the login",
    );

    // Step 7, the web app's side: the code goes to the token endpoint (the IAM logs its checks
    // of it under the same request id).
    let timer = StepTimer::start(Program::WebApp, steps::CODE_REDEEMED, &request_id);
    let answer = match state.oidc.redeem(&pending, &code, &request_id).await {
        Ok(answer) => answer,
        Err(error) => {
            let reason = error.to_string();
            let (status, message) = redeem_failure(&error);
            if matches!(error, OidcError::Unavailable(_) | OidcError::Transport(_)) {
                timer.failed("code exchange", &reason);
            } else {
                timer.rejected("code exchange", &reason);
            }
            return refused(status, &request_id, message);
        }
    };
    let step7 = timer.ok_with_detail(
        "code exchange",
        "code, PKCE verifier and a DPoP proof sent to the token endpoint",
    );

    // Step 8.
    let timer = StepTimer::start(Program::WebApp, steps::TOKENS_RECEIVED, &request_id);
    let login = match state.oidc.verify_login(&pending, answer).await {
        Ok(login) => login,
        Err(error) => {
            let (status, message) = redeem_failure(&error);
            timer.rejected("token response and ID token", &error.to_string());
            return refused(status, &request_id, message);
        }
    };
    let step8 = timer.ok_with_detail(
        "token response and ID token",
        &format!(
            "DPoP-bound access token; ID token signature, iss, aud, exp, nonce, at_hash; \
             the IAM signed amr {}",
            attested_methods(&login.identity.amr)
        ),
    );

    // Step 9.
    let timer = StepTimer::start(Program::WebApp, steps::SESSION_ESTABLISHED, &request_id);
    let (session_id, csrf_token) =
        match (Opaque::generate(&state.rng), Opaque::generate(&state.rng)) {
            (Ok(id), Ok(csrf)) => (id, csrf),
            (Err(error), _) | (_, Err(error)) => {
                timer.failed("server-side session", &error.to_string());
                return internal_error(request_id.as_str(), &error);
            }
        };
    let now = state.now();
    let mut steps: Vec<TimelineStep> = pending.steps.clone();
    steps.extend([step6, step7, step8].iter().filter_map(timeline::own));
    let session = Session {
        id_hash: session_id.hashed(),
        subject: login.identity.subject.clone(),
        username: login.identity.username.clone(),
        display_name: login.identity.display_name.clone(),
        csrf_token: crate::session::Sensitive::new(csrf_token.expose()),
        tokens: login.tokens,
        nonce: pending.nonce.clone(),
        dpop_key: pending.dpop_key.clone(),
        login_steps: steps.clone(),
        login_request_id: request_id.as_str().to_owned(),
        created_at: now,
        expires_at: now.saturating_add(state.session_lifetime()),
    };
    // Whatever session this browser had ends here: the new one has a new id.
    let replaced = match state.cookies.session(headers) {
        Some(old) => store::delete_session(state.pool(), &old.hashed()).await,
        None => Ok(()),
    };
    let stored = match replaced {
        Ok(()) => store::insert_session(state.pool(), &session_id, &session, now).await,
        Err(error) => Err(error),
    };
    if let Err(error) = stored {
        timer.failed("server-side session", &error.to_string());
        return internal_error(request_id.as_str(), &error);
    }
    let step9 = timer.ok_with_detail(
        "server-side session",
        "new session id; the browser holds only an opaque HttpOnly cookie",
    );
    steps.extend(timeline::own(&step9));
    if let Err(error) = store::set_login_steps(state.pool(), &session.id_hash, &steps).await {
        // The session works without its timeline; the page then shows steps 1–8.
        tracing::warn!(%error, "the login's steps could not be stored");
    }
    tracing::info!(
        subject = %session.subject,
        scopes = %session.tokens.scopes.join(" "),
        "customer logged in"
    );
    let mut response = Redirect::to(paths::CHAT).into_response();
    if let Some(cookie) = state.cookies.set_session(&session_id) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Why step 6 refused the callback.
struct Refusal {
    status: StatusCode,
    /// For the log.
    reason: &'static str,
    /// For the customer.
    message: &'static str,
}

fn check_response(state: &Shared, pending: &PendingLogin, query: &str) -> Result<String, Refusal> {
    let refuse = |reason, message| Refusal {
        status: StatusCode::BAD_REQUEST,
        reason,
        message,
    };
    const NOT_OURS: &str =
        "The response did not come from the sign-in this page started. Please start again.";
    let callback = Callback::parse(query).map_err(|reason| refuse(reason, NOT_OURS))?;
    match callback.iss.as_deref() {
        None => return Err(refuse("iss is missing (RFC 9207)", NOT_OURS)),
        Some(iss) if iss != state.oidc.issuer() => {
            return Err(refuse("iss names another issuer (RFC 9207)", NOT_OURS));
        }
        Some(_) => {}
    }
    let state_matches = callback
        .state
        .as_deref()
        .is_some_and(|sent| constant_time_eq(sent.as_bytes(), pending.state.expose().as_bytes()));
    if !state_matches {
        return Err(refuse("state does not match the login's", NOT_OURS));
    }
    if let Some(error) = callback.error.as_deref() {
        return Err(match error {
            "access_denied" => refuse(
                "the IAM answered access_denied",
                "Sign-in was cancelled or refused. You can start again when you are ready.",
            ),
            "login_required" | "interaction_required" | "consent_required" => refuse(
                "the IAM needs the customer to sign in",
                "Please sign in again.",
            ),
            _ => Refusal {
                status: StatusCode::BAD_GATEWAY,
                reason: "the IAM answered with an error",
                message: "The identity provider could not complete the sign-in. Please try again.",
            },
        });
    }
    match callback.code {
        Some(code) if code.len() > MAX_CODE_LEN => {
            Err(refuse("the code is too long to be one", NOT_OURS))
        }
        Some(code) if !code.is_empty() => Ok(code),
        _ => Err(refuse("no code in the response", NOT_OURS)),
    }
}

/// `amr` as the timeline shows it: the IAM's signed word on steps 3 and 4, which happen between
/// the browser and the IAM. The values are the IAM's registered names (RFC 8176), never secrets.
fn attested_methods(amr: &[String]) -> String {
    if amr.is_empty() {
        "(none)".to_owned()
    } else {
        amr.join(", ")
    }
}

fn redeem_failure(error: &OidcError) -> (StatusCode, &'static str) {
    match error {
        OidcError::Unavailable(_) | OidcError::Transport(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The identity provider cannot be reached. Please try again in a few minutes.",
        ),
        OidcError::Refused { .. } => (
            StatusCode::BAD_REQUEST,
            "The identity provider did not accept this sign-in (it may have expired). Please start again.",
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            "The identity provider's answer could not be verified, so you were not signed in.",
        ),
    }
}

fn refused(status: StatusCode, request_id: &RequestId, message: &str) -> Response {
    error_page(status, request_id.as_str(), None, FAILED, message, true)
}
