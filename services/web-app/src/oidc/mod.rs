//! The relying party: the login (authorization code + PKCE + DPoP, design steps 2, 6–8), the
//! token refresh, and the logout at the IAM.
//!
//! - [`provider`]: discovery and the checks made on the provider.
//! - [`transport`]: DPoP proofs and nonces on the token requests `openidconnect` builds.
//! - [`id_token`]: ID token validation.
//! - [`iam_http`]: the HTTP client for the IAM.

pub mod iam_http;
pub mod id_token;
pub mod provider;
pub mod transport;

use std::sync::Arc;

use openidconnect::core::{CoreAuthenticationFlow, CoreErrorResponseType, CoreTokenResponse};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, RefreshToken, RequestTokenError, Scope, StandardErrorResponse,
    TokenResponse as _,
};
use telemetry::RequestId;
use tokens::{DpopKey, SharedClock, SigningKey};
use url::Url;

use crate::config::{IamConfig, secs};
use crate::session::{PendingLogin, Sensitive, Session, StoredKey, Tokens};
pub use id_token::{IdTokenError, Identity, NonceRule};
pub use provider::{DiscoveryError, Provider};
use transport::{DpopTransport, NonceCell, TransportError, error_chain};

/// The scopes every login asks for (design step 2). `openid` is added by the library.
pub const SCOPES: [&str; 3] = [
    wire::scopes::PROFILE,
    wire::scopes::CHATBOT_ACCESS,
    wire::scopes::AGENT_INVOKE,
];

/// Random bytes in `state` and `nonce`: 256 bits, where 128 would do, for the price of a few
/// characters in a URL.
const STATE_BYTES: u32 = 32;

/// When the token response has no `expires_in` (RFC 6749 §5.1 makes it optional), the token
/// is treated as expiring this soon, so it is refreshed early rather than used past its end.
const ASSUMED_LIFETIME: i64 = 5 * 60;

/// Why a login, refresh or logout step at the IAM failed. The texts are for logs and say what
/// failed, never a token, code or secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the IAM is unavailable: {0}")]
    Unavailable(#[from] DiscoveryError),
    #[error("the token endpoint refused the request: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the token request failed: {0}")]
    Transport(String),
    #[error("the token response is unusable: {0}")]
    Response(String),
    #[error("the access token is not DPoP-bound (token_type {0:?})")]
    NotDpopBound(String),
    #[error("the token response has no ID token")]
    MissingIdToken,
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    #[error("the DPoP key cannot be made or loaded: {0}")]
    Key(String),
}

impl OidcError {
    /// Whether a failed refresh means the session cannot continue: `invalid_grant` (the refresh
    /// token is spent, revoked or expired), or an answer that fails the checks a login's answer
    /// must pass. The customer then logs in again. Other failures (the IAM unreachable, a
    /// client misconfiguration) say nothing about the session.
    pub fn ends_session(&self) -> bool {
        match self {
            Self::Refused { error, .. } => error == "invalid_grant",
            Self::NotDpopBound(_) | Self::IdToken(_) => true,
            Self::Unavailable(_)
            | Self::Transport(_)
            | Self::Response(_)
            | Self::MissingIdToken
            | Self::Key(_) => false,
        }
    }
}

/// A login the app is about to send the browser to the IAM for.
#[derive(Debug)]
pub struct LoginStart {
    /// The authorization request (design step 2).
    pub authorize_url: Url,
    /// What the callback needs, to be stored server-side.
    pub state: Sensitive,
    pub nonce: Sensitive,
    pub pkce_verifier: Sensitive,
    pub dpop_key: StoredKey,
}

/// The token endpoint's answer to a code, not yet checked: only [`Oidc::verify_login`] turns it
/// into a session's tokens.
pub struct CodeResponse {
    provider: Arc<Provider>,
    response: CoreTokenResponse,
}

impl std::fmt::Debug for CodeResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens in it are secrets.
        f.debug_struct("CodeResponse").finish_non_exhaustive()
    }
}

/// A verified login: the session's tokens and who logged in.
#[derive(Debug)]
pub struct LoginTokens {
    pub tokens: Tokens,
    pub identity: Identity,
}

/// The relying party. Built once; discovery happens on first use.
#[derive(Debug)]
pub struct Oidc {
    http: reqwest::Client,
    config: IamConfig,
    clock: SharedClock,
    provider: tokio::sync::OnceCell<Arc<Provider>>,
    nonces: NonceCell,
}

impl Oidc {
    pub fn new(http: reqwest::Client, config: IamConfig, clock: SharedClock) -> Self {
        Self {
            http,
            config,
            clock,
            provider: tokio::sync::OnceCell::new(),
            nonces: NonceCell::default(),
        }
    }

    /// The discovered provider, discovering it now if no earlier attempt succeeded. Concurrent
    /// callers share one attempt.
    pub async fn provider(&self) -> Result<Arc<Provider>, DiscoveryError> {
        self.provider
            .get_or_try_init(|| async {
                let provider =
                    provider::discover(&self.http, &self.config, self.clock.clone()).await?;
                tracing::info!(
                    issuer = self.config.issuer.as_str(),
                    "external IAM discovered"
                );
                Ok(Arc::new(provider))
            })
            .await
            .cloned()
    }

    /// The issuer, as `iss` on the callback must spell it.
    pub fn issuer(&self) -> &str {
        self.config.issuer.as_str()
    }

    /// Step 2: a fresh `state`, `nonce`, PKCE verifier and DPoP key, and the authorization
    /// request carrying the S256 challenge, the scopes, the resource (RFC 8707) and the key's
    /// thumbprint as `dpop_jkt` (RFC 9449 §10: the code can then be redeemed only with a proof
    /// by this key, so a code stolen from the browser is useless).
    pub async fn start_login(&self) -> Result<LoginStart, OidcError> {
        let provider = self.provider().await?;
        let key = SigningKey::generate(tokens::Algorithm::Es256)
            .map_err(|error| OidcError::Key(error.to_string()))?;
        // The RFC 7638 thumbprint a DPoP key built from this key will have.
        let jkt = key.public_jwk().thumbprint();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            || CsrfToken::new_random_len(STATE_BYTES),
            || Nonce::new_random_len(STATE_BYTES),
        );
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (authorize_url, state, nonce) = request
            .add_extra_param("resource", self.config.resource.clone())
            .add_extra_param("dpop_jkt", jkt)
            .set_pkce_challenge(challenge)
            .url();
        Ok(LoginStart {
            authorize_url,
            state: Sensitive::new(state.secret().clone()),
            nonce: Sensitive::new(nonce.secret().clone()),
            pkce_verifier: Sensitive::new(verifier.secret().clone()),
            dpop_key: StoredKey::from_key(&key),
        })
    }

    /// Step 7: sends `code` to the token endpoint with the PKCE verifier and a DPoP proof by
    /// the login's key. The answer is checked by [`Self::verify_login`] (step 8).
    pub async fn redeem(
        &self,
        login: &PendingLogin,
        code: &str,
        request_id: &RequestId,
    ) -> Result<CodeResponse, OidcError> {
        let provider = self.provider().await?;
        let key = self.load_key(&login.dpop_key)?;
        let transport = self.transport(&provider, &key, request_id);
        let response = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(
                login.pkce_verifier.expose().to_owned(),
            ))
            .request_async(&transport)
            .await
            .map_err(token_error)?;
        Ok(CodeResponse { provider, response })
    }

    /// Step 8: requires an ID token and a DPoP-bound access token in the answer to
    /// [`Self::redeem`], and validates the ID token against the login's nonce.
    pub async fn verify_login(
        &self,
        login: &PendingLogin,
        answer: CodeResponse,
    ) -> Result<LoginTokens, OidcError> {
        let CodeResponse { provider, response } = answer;
        let id_token = response.id_token().ok_or(OidcError::MissingIdToken)?;
        let identity = id_token::verify(
            &self.id_token_rules(&provider),
            id_token,
            response.access_token(),
            NonceRule::Exactly(login.nonce.expose()),
        )
        .await?;
        let tokens = self.tokens(&response, None, None)?;
        Ok(LoginTokens { tokens, identity })
    }

    /// Refreshes the session's tokens with its refresh token and a proof by its key. The IAM
    /// rotates the refresh token; a new ID token, when it sends one, is validated (same
    /// customer, the login's nonce if any) and replaces the old one.
    pub async fn refresh(
        &self,
        session: &Session,
        request_id: &RequestId,
    ) -> Result<Tokens, OidcError> {
        let refresh_token =
            session
                .tokens
                .refresh_token
                .as_ref()
                .ok_or_else(|| OidcError::Refused {
                    error: "invalid_grant".to_owned(),
                    description: Some("the session has no refresh token".to_owned()),
                })?;
        let provider = self.provider().await?;
        let key = self.load_key(&session.dpop_key)?;
        let transport = self.transport(&provider, &key, request_id);
        let response = provider
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_owned()))
            .request_async(&transport)
            .await
            .map_err(token_error)?;
        let id_token = match response.id_token() {
            Some(id_token) => {
                let identity = id_token::verify(
                    &self.id_token_rules(&provider),
                    id_token,
                    response.access_token(),
                    NonceRule::AbsentOrSame(session.nonce.expose()),
                )
                .await?;
                if identity.subject != session.subject {
                    return Err(IdTokenError::SubjectChanged.into());
                }
                Some(Sensitive::new(id_token.to_string()))
            }
            None => None,
        };
        self.tokens(&response, Some(&session.tokens), id_token)
    }

    /// Where to send the browser to end its session at the IAM (RP-Initiated Logout 1.0 §2):
    /// the ID token as `id_token_hint`, so the IAM ends the session without asking, and the
    /// registered post-logout URI. `None` when the IAM has no end-session endpoint or cannot
    /// be reached to find it.
    ///
    /// The ID token travels in this one URL, as the specification asks. It grants nothing: its
    /// audience is this app, which has just ended the session it belonged to.
    pub async fn end_session_url(&self, id_token: &Sensitive) -> Option<Url> {
        let provider = self.provider().await.ok()?;
        let mut url = provider.end_session_endpoint.clone()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token.expose())
            .append_pair("client_id", &self.config.client_id)
            .append_pair(
                "post_logout_redirect_uri",
                self.config.post_logout_redirect_uri.as_str(),
            );
        Some(url)
    }

    /// Revokes a refresh token (RFC 7009), which at this IAM revokes its whole family and the
    /// access tokens issued from it. Best effort: logout goes on whatever the answer, and the
    /// IAM's end-session endpoint revokes the family too.
    pub async fn revoke(&self, refresh_token: &Sensitive, request_id: &RequestId) {
        let Ok(provider) = self.provider().await else {
            return;
        };
        let Some(endpoint) = &provider.revocation_endpoint else {
            return;
        };
        let outcome = self
            .http
            .post(endpoint.clone())
            .basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(self.config.client_secret.expose())),
            )
            .header(wire::headers::X_REQUEST_ID, request_id.as_str())
            .form(&[
                ("token", refresh_token.expose()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await;
        match outcome {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the IAM refused to revoke a refresh token at logout");
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "revoking a refresh token at logout failed");
            }
        }
    }

    fn load_key(&self, stored: &StoredKey) -> Result<DpopKey, OidcError> {
        stored
            .load(self.clock.clone())
            .map_err(|error| OidcError::Key(error.to_string()))
    }

    fn transport<'a>(
        &'a self,
        provider: &'a Provider,
        key: &'a DpopKey,
        request_id: &'a RequestId,
    ) -> DpopTransport<'a> {
        DpopTransport {
            http: &self.http,
            key,
            token_endpoint: &provider.token_endpoint,
            nonces: &self.nonces,
            request_id,
        }
    }

    fn id_token_rules<'a>(&'a self, provider: &'a Provider) -> id_token::IdTokenRules<'a> {
        id_token::IdTokenRules {
            client_id: &self.config.client_id,
            issuer: &provider.issuer,
            keys: &provider.keys,
            now: self.clock.now(),
        }
    }

    /// The tokens of a response. `previous` are the tokens a refresh replaces: RFC 6749 §6
    /// lets a refresh response leave out `scope` (then unchanged), and the ID token is kept
    /// when no new one came.
    fn tokens(
        &self,
        response: &CoreTokenResponse,
        previous: Option<&Tokens>,
        new_id_token: Option<Sensitive>,
    ) -> Result<Tokens, OidcError> {
        // The library lower-cases token types it does not know; the comparison is
        // case-insensitive anyway (RFC 6749 §5.1).
        let token_type = response.token_type().as_ref();
        if !token_type.eq_ignore_ascii_case(wire::token_types::TOKEN_TYPE_DPOP) {
            return Err(OidcError::NotDpopBound(token_type.to_owned()));
        }
        let lifetime = response.expires_in().map_or(ASSUMED_LIFETIME, secs);
        // RFC 6749 §5.1: no `scope` means the scopes requested were granted; §6: at a refresh,
        // the scopes of the token refreshed.
        let scopes = match (response.scopes(), previous) {
            (Some(scopes), _) => scopes.iter().map(|scope| scope.to_string()).collect(),
            (None, Some(previous)) => previous.scopes.clone(),
            (None, None) => std::iter::once(wire::scopes::OPENID)
                .chain(SCOPES)
                .map(str::to_owned)
                .collect(),
        };
        let id_token = match (new_id_token, previous) {
            (Some(id_token), _) => id_token,
            (None, Some(previous)) => previous.id_token.clone(),
            (None, None) => Sensitive::new(
                response
                    .id_token()
                    .ok_or(OidcError::MissingIdToken)?
                    .to_string(),
            ),
        };
        Ok(Tokens {
            access_token: Sensitive::new(response.access_token().secret().clone()),
            access_expires_at: self.clock.now().saturating_add(lifetime),
            // The IAM rotates refresh tokens; one that does not may send none, and the old one
            // stays valid (RFC 6749 §6).
            refresh_token: response
                .refresh_token()
                .map(|token| Sensitive::new(token.secret().clone()))
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            id_token,
            scopes,
        })
    }
}

/// The library's token errors, keeping what is safe to log: the OAuth `error` and description
/// of a refusal, the transport's own failure, and for an unreadable response only where it
/// went wrong (the body may hold tokens, and parser messages can quote it).
fn token_error(
    error: RequestTokenError<TransportError, StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    match error {
        RequestTokenError::ServerResponse(response) => OidcError::Refused {
            error: response.error().as_ref().to_owned(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(error) => OidcError::Transport(error.to_string()),
        RequestTokenError::Parse(error, _) => {
            OidcError::Response(format!("unreadable at `{}`", error.path()))
        }
        RequestTokenError::Other(reason) => OidcError::Response(reason),
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before they go into HTTP Basic.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
