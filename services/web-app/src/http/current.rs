//! The session of the request, if the browser has one.

use http::HeaderMap;

use super::pages::UserView;
use crate::session::{Session, StoreError, store};
use crate::state::Shared;

/// The live session named by the request's session cookie.
pub async fn session(state: &Shared, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
    match state.cookies.session(headers) {
        Some(id) => store::get_session(state.pool(), &id, state.now()).await,
        None => Ok(None),
    }
}

/// The header bar's view of the customer.
pub fn user_view(session: &Session) -> UserView {
    UserView {
        name: session.greeting_name().to_owned(),
        csrf_token: session.csrf_token.expose().to_owned(),
    }
}
