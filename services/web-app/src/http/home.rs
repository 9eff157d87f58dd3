//! `GET /`: the public home page (also where the IAM sends the browser after logout).

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::RequestMeta;
use super::current;
use super::pages::{HomePage, internal_error, render};
use crate::state::AppState;

pub async fn home(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Response {
    let request_id = meta.request_id().as_str();
    match current::session(&state, &headers).await {
        Ok(session) => render(
            StatusCode::OK,
            &HomePage {
                request_id,
                user: session.as_ref().map(current::user_view),
            },
        ),
        Err(error) => internal_error(request_id, &error),
    }
}
