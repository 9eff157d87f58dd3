//! Validating an authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1,
//! RFC 7636, RFC 8707, RFC 9449 §10) and the two ways of refusing one (RFC 6749 §4.1.2.1).

use serde::{Deserialize, Serialize};
use tokens::claims::Scopes;
use wire::ErrorCode;

use super::params::Params;
use super::pkce::CodeChallenge;
use super::redirect_uri;
use crate::store::clients::Client;

/// OpenID Connect Core §3.1.2.6 error codes that the shared vocabulary does not carry (they
/// only ever appear in authorization redirects).
pub mod oidc_errors {
    pub const LOGIN_REQUIRED: &str = "login_required";
    pub const REQUEST_NOT_SUPPORTED: &str = "request_not_supported";
    pub const REQUEST_URI_NOT_SUPPORTED: &str = "request_uri_not_supported";
}

/// `state` and `nonce` are opaque to this server but end up in URLs and tokens; bound them.
const MAX_OPAQUE_PARAM: usize = 512;

/// A request that passed every check, kept while the customer logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested scopes, all allowed for the client (the user's entitlements are applied when
    /// the code is issued).
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub resources: Vec<String>,
    pub dpop_jkt: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
}

/// The `prompt` values acted upon (OpenID Connect Core §3.1.2.1). `consent` and
/// `select_account` are accepted and need no action: there is no consent screen for these
/// registered first-party clients, and one account per browser session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    Default,
    /// Never show a page: answer from the current session or fail with `login_required`.
    None,
    /// Authenticate again even with a session.
    Login,
}

/// How a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: an error page, never a redirect
    /// (RFC 6749 §4.1.2.1, §10.15: an open redirector otherwise).
    Page(String),
    /// The client and redirect URI are good: the error goes back to the client.
    Redirect(ErrorRedirect),
}

/// An error sent back to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: &'static str,
    pub description: String,
}

/// Step one: the client and redirect URI, which decide whether errors may be redirected.
pub fn check_client<'c>(
    params: &Params,
    client: Option<&'c Client>,
) -> Result<(&'c Client, String), AuthorizeError> {
    let Some(client_id) = params.get("client_id") else {
        return Err(AuthorizeError::Page("The request has no client_id.".into()));
    };
    let Some(client) = client.filter(|c| c.client_id == client_id) else {
        return Err(AuthorizeError::Page(
            "The application that sent you here is not registered.".into(),
        ));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        // OpenID Connect Core §3.1.2.1 makes redirect_uri required.
        return Err(AuthorizeError::Page(
            "The request has no redirect_uri.".into(),
        ));
    };
    if !redirect_uri::is_registered(redirect_uri, &client.redirect_uris) {
        return Err(AuthorizeError::Page(
            "The redirect_uri is not registered for this application.".into(),
        ));
    }
    Ok((client, redirect_uri.to_owned()))
}

/// Step two: everything else, refused by redirect.
pub fn validate(
    params: &Params,
    client: &Client,
    redirect_uri: String,
) -> Result<AuthorizationRequest, AuthorizeError> {
    // `state` is echoed in every error redirect, so it is checked first.
    let state = params.get("state").map(str::to_owned);
    let fail = |error: &'static str, description: &str| {
        let state = state.clone().filter(|s| s.len() <= MAX_OPAQUE_PARAM);
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            state,
            error,
            description: description.to_owned(),
        })
    };
    let invalid = |description: &str| fail(ErrorCode::InvalidRequest.as_str(), description);

    if state.as_ref().is_some_and(|s| s.len() > MAX_OPAQUE_PARAM) {
        return Err(invalid("state is too long"));
    }
    if params.get("request").is_some() {
        return Err(fail(
            oidc_errors::REQUEST_NOT_SUPPORTED,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(
            oidc_errors::REQUEST_URI_NOT_SUPPORTED,
            "request_uri is not supported",
        ));
    }
    match params.get("response_type") {
        None => return Err(invalid("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType.as_str(),
                "only response_type=code is supported",
            ));
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    let challenge = CodeChallenge::from_request(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    .map_err(|e| invalid(&e.to_string()))?;

    let scope_text = params
        .get("scope")
        .ok_or_else(|| invalid("scope is required"))?;
    let scopes = Scopes::parse(scope_text)
        .map_err(|e| fail(ErrorCode::InvalidScope.as_str(), &e.to_string()))?;
    let mut scope: Vec<String> = Vec::new();
    for token in scopes.iter() {
        if !client.allows_scope(token) {
            return Err(fail(
                ErrorCode::InvalidScope.as_str(),
                &format!("the scope {token:?} is not allowed for this client"),
            ));
        }
        if !scope.iter().any(|s| s == token) {
            scope.push(token.to_owned());
        }
    }

    let mut resources = Vec::new();
    for resource in params.all("resource") {
        // RFC 8707 §2: an absolute URI without a fragment, and here a registered one.
        if !client.allows_resource(resource) {
            return Err(fail(
                ErrorCode::InvalidTarget.as_str(),
                "the resource is not registered for this client",
            ));
        }
        if !resources.contains(resource) {
            resources.push(resource.clone());
        }
    }

    let nonce = params.get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_OPAQUE_PARAM) {
        return Err(invalid("nonce is too long"));
    }
    // OpenID Connect makes `nonce` optional in the code flow; this provider requires it with
    // `openid`, because it is the relying party's only binding of the ID token to its login.
    if scope.iter().any(|s| s == wire::scopes::OPENID) && nonce.is_none() {
        return Err(invalid("nonce is required with the openid scope"));
    }

    let prompt = match params.get("prompt") {
        None => Prompt::Default,
        Some(text) => {
            let values: Vec<&str> = text.split(' ').collect();
            if values.contains(&"none") && values.len() > 1 {
                return Err(invalid("prompt=none cannot be combined with other values"));
            }
            if let Some(unknown) = values
                .iter()
                .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
            {
                return Err(invalid(&format!("unknown prompt value {unknown:?}")));
            }
            if values.contains(&"none") {
                Prompt::None
            } else if values.contains(&"login") {
                Prompt::Login
            } else {
                Prompt::Default
            }
        }
    };
    let max_age = params
        .get("max_age")
        .map(|v| v.parse::<i64>().ok().filter(|n| *n >= 0))
        .map(|v| v.ok_or_else(|| invalid("max_age must be a non-negative integer")))
        .transpose()?;
    let dpop_jkt = params
        .get("dpop_jkt")
        .map(|jkt| {
            (jkt.len() == 43 && tokens::b64::decode(jkt).is_ok())
                .then(|| jkt.to_owned())
                .ok_or_else(|| invalid("dpop_jkt must be a base64url SHA-256 JWK thumbprint"))
        })
        .transpose()?;

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge: challenge.as_str().to_owned(),
        resources,
        dpop_jkt,
        prompt,
        max_age,
    })
}

/// The redirect back to the client: `code` or `error`, then `state` and `iss` (RFC 9207 §2:
/// the issuer identifies who answered, defeating mix-up attacks).
pub fn redirect_url(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        // Registered URIs were validated; this cannot happen for a stored one.
        return redirect_uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.to_string()
}
