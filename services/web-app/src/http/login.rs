//! Starting a login (design steps 1–2): the pending login is stored server-side under a fresh
//! pre-login cookie, and the browser goes to the IAM's authorization endpoint.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, header};
use telemetry::StepTimer;
use wire::chat::TimelineStep;
use wire::{Program, StepRecord, steps};

use super::RequestMeta;
use super::pages::{error_page, internal_error};
use crate::session::{Opaque, PendingLogin, store};
use crate::state::{AppState, Shared};
use crate::timeline;

/// `GET /auth/login`: the "Sign in" link, and switching accounts. Step 1 is this request.
pub async fn start(State(state): State<AppState>, meta: RequestMeta) -> Response {
    let step1 = StepTimer::start(
        Program::WebApp,
        steps::PROTECTED_PAGE_REQUESTED,
        meta.request_id(),
    )
    .ok_with_detail("sign-in requested", "login started from the sign-in link");
    redirect_to_login(&state, &meta, step1).await
}

/// Step 2 after `step1`: makes the authorization request and sends the browser to it. The
/// login's request id is this request's: steps 6 to 9 are logged under it too.
pub async fn redirect_to_login(state: &Shared, meta: &RequestMeta, step1: StepRecord) -> Response {
    let request_id = meta.request_id();
    let timer = StepTimer::start(Program::WebApp, steps::AUTHORIZATION_REDIRECT, request_id);
    let start = match state.oidc.start_login().await {
        Ok(start) => start,
        Err(error) => {
            timer.failed("authorization request", &error.to_string());
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                request_id.as_str(),
                None,
                "Sign-in is not available right now",
                "The identity provider cannot be reached. Please try again in a few minutes.",
                true,
            );
        }
    };
    let login_id = match Opaque::generate(&state.rng) {
        Ok(id) => id,
        Err(error) => {
            timer.failed("authorization request", &error.to_string());
            return internal_error(request_id.as_str(), &error);
        }
    };
    let step2 = timer.ok_with_detail(
        "authorization request",
        "code flow; PKCE S256, state, nonce, resource and dpop_jkt stored server-side",
    );
    let now = state.now();
    let pending = PendingLogin {
        state: start.state,
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
        dpop_key: start.dpop_key,
        request_id: request_id.as_str().to_owned(),
        steps: [step1, step2]
            .iter()
            .filter_map(timeline::own)
            .collect::<Vec<TimelineStep>>(),
        expires_at: now.saturating_add(state.login_timeout()),
    };
    if let Err(error) = store::insert_pending(state.pool(), &login_id, &pending, now).await {
        return internal_error(request_id.as_str(), &error);
    }
    let mut response = Redirect::to(start.authorize_url.as_str()).into_response();
    if let Some(cookie) = state.cookies.set_login(&login_id, state.login_timeout()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
