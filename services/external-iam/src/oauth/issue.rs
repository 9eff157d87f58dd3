//! Minting tokens: the RFC 9068 access token, the OpenID Connect ID token and the rotating
//! refresh token, and registering them so they can be introspected and revoked.

use serde::Serialize;
use tokens::claims::{AccessTokenClaims, Audience, Confirmation, IdTokenClaims, Scopes, at_hash};
use wire::jose::{TYP_ACCESS_TOKEN, TYP_JWT};
use wire::token_types::{TOKEN_TYPE_BEARER, TOKEN_TYPE_DPOP};

use crate::auth::opaque::{Opaque, random_id};
use crate::config::secs;
use crate::state::Shared;
use crate::store::StoreError;
use crate::store::tokens::{self as token_store, AccessRecord, RefreshGrant};
use crate::store::users::User;

/// The authentication methods of every login here (RFC 8176 §2): password and one-time code.
pub const AMR: [&str; 2] = ["pwd", "otp"];

/// Why tokens could not be minted: the server's fault, never the client's.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing failed: {0}")]
    Sign(#[from] tokens::jwks::KeySetError),
    #[error(transparent)]
    Rng(#[from] crate::auth::opaque::RngFailure),
    #[error("the granted scope is not a valid scope list")]
    Scope,
}

/// What a grant carries into the tokens.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub client_id: &'a str,
    pub user: &'a User,
    pub scope: &'a [String],
    pub resources: &'a [String],
    pub sid: &'a str,
    pub auth_time: i64,
    /// Only on the first ID token of a login (OpenID Connect Core §12.2: a refreshed ID token
    /// does not repeat the nonce).
    pub nonce: Option<&'a str>,
    /// The DPoP key the access token is bound to, if the request carried a proof.
    pub access_jkt: Option<&'a str>,
    /// The key the refresh token stays bound to.
    pub refresh_jkt: Option<&'a str>,
    pub family_id: &'a str,
    pub family_expires_at: i64,
}

/// The token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Not part of the response: the access token's id, for logs and audit.
    #[serde(skip)]
    pub jti: String,
}

/// Mints and registers the tokens of `grant`.
///
/// The rows are written on `conn`, normally the transaction that also consumed the code or the
/// refresh token, so the whole exchange commits at once or not at all.
pub async fn issue(
    state: &Shared,
    conn: &mut sqlx::AnyConnection,
    grant: &Grant<'_>,
) -> Result<TokenResponse, IssueError> {
    let now = state.now();
    let keys = state.keys.current();
    let scope_text = grant.scope.join(" ");
    let scopes = Scopes::parse(&scope_text).map_err(|_| IssueError::Scope)?;
    let openid = scopes.contains(wire::scopes::OPENID);

    // `aud`: the requested resources (RFC 8707, RFC 9068 §3), and this provider's UserInfo
    // endpoint when `openid` was granted, since OpenID Connect Core §5.3 makes the access token
    // the credential for UserInfo.
    let mut audiences: Vec<String> = grant.resources.to_vec();
    if openid || audiences.is_empty() {
        audiences.push(state.urls.userinfo.clone());
    }
    let audience = Audience::many(audiences).ok_or(IssueError::Scope)?;

    let jti = random_id(&state.rng)?;
    let expires_in = secs(state.config.access_token_lifetime);
    let access_claims = AccessTokenClaims {
        iss: state.config.issuer.as_str().to_owned(),
        sub: grant.user.id.clone(),
        aud: audience,
        exp: now + expires_in,
        iat: now,
        nbf: None,
        jti: jti.clone(),
        client_id: grant.client_id.to_owned(),
        scope: scopes,
        auth_time: Some(grant.auth_time),
        acr: None,
        amr: Some(AMR.iter().map(|m| (*m).to_owned()).collect()),
        cnf: grant
            .access_jkt
            .map(|jkt| Confirmation::Jkt(jkt.to_owned())),
    };
    let access_token = keys.sign(TYP_ACCESS_TOKEN, &access_claims)?;
    token_store::insert_access(
        &mut *conn,
        &AccessRecord {
            jti: jti.clone(),
            family_id: grant.family_id.to_owned(),
            client_id: grant.client_id.to_owned(),
            user_id: grant.user.id.clone(),
            expires_at: now + expires_in,
            revoked_at: None,
        },
    )
    .await?;

    let id_token = if openid {
        let profile = grant.scope.iter().any(|s| s == wire::scopes::PROFILE);
        let email = grant.scope.iter().any(|s| s == super::EMAIL_SCOPE);
        let claims = IdTokenClaims {
            iss: state.config.issuer.as_str().to_owned(),
            sub: grant.user.id.clone(),
            aud: Audience::one(grant.client_id),
            exp: now + secs(state.config.id_token_lifetime),
            iat: now,
            auth_time: Some(grant.auth_time),
            nonce: grant.nonce.map(str::to_owned),
            acr: None,
            amr: Some(AMR.iter().map(|m| (*m).to_owned()).collect()),
            azp: None,
            at_hash: Some(at_hash(keys.active().algorithm(), &access_token)),
            sid: Some(grant.sid.to_owned()),
            preferred_username: profile.then(|| grant.user.username.clone()),
            name: if profile {
                grant.user.display_name.clone()
            } else {
                None
            },
            email: if email {
                grant.user.email.clone()
            } else {
                None
            },
        };
        Some(keys.sign(TYP_JWT, &claims)?)
    } else {
        None
    };

    let refresh = Opaque::generate(&state.rng)?;
    let refresh_expires =
        (now + secs(state.config.refresh_token_lifetime)).min(grant.family_expires_at);
    token_store::insert_refresh(
        &mut *conn,
        &RefreshGrant {
            token_hash: refresh.hashed(),
            family_id: grant.family_id.to_owned(),
            client_id: grant.client_id.to_owned(),
            user_id: grant.user.id.clone(),
            scope: grant.scope.to_vec(),
            resources: grant.resources.to_vec(),
            dpop_jkt: grant.refresh_jkt.map(str::to_owned),
            sid: grant.sid.to_owned(),
            auth_time: grant.auth_time,
            issued_at: now,
            expires_at: refresh_expires,
            rotated_at: None,
            family_revoked_at: None,
            family_expires_at: grant.family_expires_at,
        },
    )
    .await?;

    Ok(TokenResponse {
        access_token,
        token_type: if grant.access_jkt.is_some() {
            TOKEN_TYPE_DPOP
        } else {
            TOKEN_TYPE_BEARER
        },
        expires_in,
        scope: scope_text,
        refresh_token: Some(refresh.expose().to_owned()),
        id_token,
        jti,
    })
}
