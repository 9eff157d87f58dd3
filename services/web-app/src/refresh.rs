//! Keeping a session's access token usable: refreshed before it expires, never by two requests
//! at once.

use telemetry::RequestId;

use crate::config::secs;
use crate::oidc::OidcError;
use crate::session::{Session, StoreError, store};
use crate::state::Shared;

/// Why a session could not be given a usable access token.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The IAM refused the refresh token (spent, revoked, expired family): the session is over
    /// and has been deleted.
    #[error("the session has ended at the IAM: {0}")]
    Ended(OidcError),
    /// The IAM could not be asked, and the access token has expired.
    #[error("the access token expired and could not be refreshed: {0}")]
    Unavailable(OidcError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `session` with an access token that has more than the refresh margin left: as it is when it
/// does, refreshed otherwise.
///
/// If the refresh fails for a reason other than the IAM's refusal (the IAM is down) and the
/// token has not expired yet, the old token is used: the margin is a precaution, not a rule.
pub async fn fresh(
    state: &Shared,
    session: Session,
    request_id: &RequestId,
) -> Result<Session, RefreshError> {
    let margin = secs(state.config.sessions.refresh_margin);
    if session.tokens.access_expires_at.saturating_sub(state.now()) > margin {
        return Ok(session);
    }
    let _guard = state.refresh_locks.lock(&session.id_hash).await;
    // Another request may have refreshed while this one waited.
    let Some(session) =
        store::get_session_by_hash(state.pool(), &session.id_hash, state.now()).await?
    else {
        return Err(RefreshError::Ended(OidcError::Refused {
            error: "invalid_grant".to_owned(),
            description: Some("the session ended while waiting".to_owned()),
        }));
    };
    if session.tokens.access_expires_at.saturating_sub(state.now()) > margin {
        return Ok(session);
    }
    match state.oidc.refresh(&session, request_id).await {
        Ok(tokens) => {
            let replaced = store::replace_tokens(
                state.pool(),
                &session.id_hash,
                &session.tokens.access_token,
                &tokens,
            )
            .await?;
            if !replaced {
                // Ended (logout) or replaced elsewhere meanwhile: read what is there now.
                return store::get_session_by_hash(state.pool(), &session.id_hash, state.now())
                    .await?
                    .ok_or_else(|| {
                        RefreshError::Ended(OidcError::Refused {
                            error: "invalid_grant".to_owned(),
                            description: Some("the session ended during the refresh".to_owned()),
                        })
                    });
            }
            tracing::info!(subject = %session.subject, "access token refreshed");
            Ok(Session { tokens, ..session })
        }
        Err(error) if error.ends_session() => {
            tracing::warn!(subject = %session.subject, %error, "refresh refused; session ended");
            store::delete_session(state.pool(), &session.id_hash).await?;
            state.dpop_keys.forget(&session.id_hash);
            Err(RefreshError::Ended(error))
        }
        Err(error) if session.tokens.access_expires_at > state.now() => {
            tracing::warn!(%error, "refresh failed; using the access token until it expires");
            Ok(session)
        }
        Err(error) => Err(RefreshError::Unavailable(error)),
    }
}
