use super::*;
use crate::headers;
use axum::body::to_bytes;
use axum::response::IntoResponse;
use serde_json::{Value, json};

fn bearer() -> BearerChallenge {
    BearerChallenge::new("agent-a").unwrap()
}

fn dpop() -> DpopChallenge {
    DpopChallenge::new("agent-b", &["ES256", "EdDSA"]).unwrap()
}

fn nonce() -> DpopNonce {
    DpopNonce::new("eyJ7S_zG.eyJH0-Z.HX4w-7v").unwrap()
}

/// Status, the three headers an OAuth error may set, and the parsed JSON body (if any).
async fn respond(
    error: OAuthError,
) -> (
    StatusCode,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Value>,
) {
    let response = error.into_response();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
    };
    let status = response.status();
    let cache = header(headers::CACHE_CONTROL);
    let challenge = header(headers::WWW_AUTHENTICATE);
    let nonce = header(headers::DPOP_NONCE);
    let content_type = header(http::header::CONTENT_TYPE);
    let bytes = to_bytes(response.into_body(), 4096).await.unwrap();
    let body = if bytes.is_empty() {
        assert_eq!(content_type, None);
        None
    } else {
        assert_eq!(content_type.as_deref(), Some("application/json"));
        Some(serde_json::from_slice(&bytes).unwrap())
    };
    assert_eq!(cache.as_deref(), Some("no-store"));
    (status, cache, challenge, nonce, body)
}

#[tokio::test]
async fn bearer_invalid_token() {
    let (status, _, challenge, nonce, body) =
        respond(bearer().invalid_token("The access token expired")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="agent-a", error="invalid_token", error_description="The access token expired""#
        )
    );
    assert_eq!(nonce, None);
    assert_eq!(
        body,
        Some(json!({"error": "invalid_token", "error_description": "The access token expired"}))
    );
}

#[tokio::test]
async fn bearer_missing_credentials_has_no_error_information() {
    let (status, _, challenge, _, body) = respond(bearer().missing_credentials()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="agent-a""#));
    assert_eq!(body, None);
}

#[tokio::test]
async fn bearer_invalid_request() {
    let (status, _, challenge, _, body) =
        respond(bearer().invalid_request("malformed Authorization header")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="agent-a", error="invalid_request", error_description="malformed Authorization header""#
        )
    );
    assert_eq!(
        body,
        Some(
            json!({"error": "invalid_request", "error_description": "malformed Authorization header"})
        )
    );
}

#[tokio::test]
async fn insufficient_scope_names_the_required_scope() {
    let (status, _, challenge, _, body) = respond(
        bearer().insufficient_scope(crate::scopes::CROSS_NAMESPACE_INVOKE, "scope missing"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="agent-a", scope="cross-namespace:invoke", error="insufficient_scope", error_description="scope missing""#
        )
    );
    assert_eq!(
        body,
        Some(json!({"error": "insufficient_scope", "error_description": "scope missing"}))
    );
}

#[test]
fn insufficient_scope_drops_a_malformed_scope_instead_of_quoting_it() {
    let error = dpop().insufficient_scope("agent:invoke\"", "scope missing");
    assert_eq!(
        error.www_authenticate_value().as_deref(),
        Some(
            r#"DPoP realm="agent-b", error="insufficient_scope", error_description="scope missing", algs="ES256 EdDSA""#
        )
    );
}

#[tokio::test]
async fn dpop_missing_credentials_lists_the_algorithms() {
    let (status, _, challenge, _, body) = respond(dpop().missing_credentials()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"DPoP realm="agent-b", algs="ES256 EdDSA""#)
    );
    assert_eq!(body, None);
}

#[tokio::test]
async fn dpop_invalid_token() {
    let (status, _, challenge, _, body) =
        respond(dpop().invalid_token("Invalid DPoP key binding")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"DPoP realm="agent-b", error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256 EdDSA""#
        )
    );
    assert_eq!(
        body,
        Some(json!({"error": "invalid_token", "error_description": "Invalid DPoP key binding"}))
    );
}

#[tokio::test]
async fn dpop_invalid_proof_at_the_resource_server() {
    let (status, _, challenge, nonce, body) =
        respond(dpop().invalid_dpop_proof("DPoP proof replayed")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"DPoP realm="agent-b", error="invalid_dpop_proof", error_description="DPoP proof replayed", algs="ES256 EdDSA""#
        )
    );
    assert_eq!(nonce, None);
    assert_eq!(
        body,
        Some(json!({"error": "invalid_dpop_proof", "error_description": "DPoP proof replayed"}))
    );
}

#[tokio::test]
async fn dpop_use_nonce_at_the_resource_server() {
    let (status, _, challenge, nonce, body) =
        respond(dpop().use_dpop_nonce(nonce(), "Resource server requires nonce in DPoP proof"))
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"DPoP realm="agent-b", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256 EdDSA""#
        )
    );
    assert_eq!(nonce.as_deref(), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
    assert_eq!(body.unwrap()["error"], "use_dpop_nonce");
}

#[tokio::test]
async fn token_endpoint_use_dpop_nonce_is_400_with_nonce_and_no_challenge() {
    let (status, _, challenge, nonce, body) = respond(OAuthError::use_dpop_nonce(
        nonce(),
        "Authorization server requires nonce in DPoP proof",
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(challenge, None);
    assert_eq!(nonce.as_deref(), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
    assert_eq!(
        body,
        Some(json!({
            "error": "use_dpop_nonce",
            "error_description": "Authorization server requires nonce in DPoP proof"
        }))
    );
}

#[tokio::test]
async fn token_endpoint_errors_have_status_body_and_no_challenge() {
    let cases = [
        (
            OAuthError::invalid_request("d"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            OAuthError::invalid_client("d"),
            StatusCode::BAD_REQUEST,
            "invalid_client",
        ),
        (
            OAuthError::invalid_grant("d"),
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            OAuthError::unauthorized_client("d"),
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
        ),
        (
            OAuthError::unsupported_grant_type("d"),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            OAuthError::unsupported_response_type("d"),
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
        ),
        (
            OAuthError::invalid_scope("d"),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            OAuthError::invalid_target("d"),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            OAuthError::access_denied("d"),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            OAuthError::invalid_dpop_proof("d"),
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
        ),
        (
            OAuthError::server_error("d"),
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
        ),
        (
            OAuthError::temporarily_unavailable("d"),
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
        ),
    ];
    for (error, expected_status, expected_code) in cases {
        let (status, _, challenge, nonce, body) = respond(error).await;
        assert_eq!(status, expected_status, "{expected_code}");
        assert_eq!(challenge, None, "{expected_code}");
        assert_eq!(nonce, None, "{expected_code}");
        assert_eq!(
            body,
            Some(json!({"error": expected_code, "error_description": "d"})),
            "{expected_code}"
        );
    }
}

#[tokio::test]
async fn attacker_text_in_a_description_cannot_inject_headers_or_break_quoting() {
    let error = dpop().invalid_token(format!(
        "unknown kid {}",
        "x\", error=\"none\r\nSet-Cookie: session=stolen"
    ));
    let (_, _, challenge, _, body) = respond(error).await;
    let challenge = challenge.unwrap();
    assert_eq!(
        challenge,
        r#"DPoP realm="agent-b", error="invalid_token", error_description="unknown kid x', error='none??Set-Cookie: session=stolen", algs="ES256 EdDSA""#
    );
    assert_eq!(
        body.unwrap()["error_description"],
        "unknown kid x', error='none??Set-Cookie: session=stolen"
    );
}

#[test]
fn grpc_status_codes() {
    use tonic::Code;
    let cases = [
        (bearer().missing_credentials(), Code::Unauthenticated),
        (bearer().invalid_token("d"), Code::Unauthenticated),
        (dpop().invalid_dpop_proof("d"), Code::Unauthenticated),
        (dpop().use_dpop_nonce(nonce(), "d"), Code::Unauthenticated),
        (OAuthError::invalid_client("d"), Code::Unauthenticated),
        (
            bearer().insufficient_scope("agent:invoke", "d"),
            Code::PermissionDenied,
        ),
        (OAuthError::access_denied("d"), Code::PermissionDenied),
        (OAuthError::unauthorized_client("d"), Code::PermissionDenied),
        (OAuthError::invalid_target("d"), Code::PermissionDenied),
        (bearer().invalid_request("d"), Code::InvalidArgument),
        (OAuthError::invalid_grant("d"), Code::InvalidArgument),
        (OAuthError::invalid_scope("d"), Code::InvalidArgument),
        (
            OAuthError::unsupported_grant_type("d"),
            Code::InvalidArgument,
        ),
        (
            OAuthError::unsupported_response_type("d"),
            Code::InvalidArgument,
        ),
        (OAuthError::temporarily_unavailable("d"), Code::Unavailable),
        (OAuthError::server_error("d"), Code::Internal),
    ];
    for (error, expected) in cases {
        let shown = error.to_string();
        let status = tonic::Status::from(error);
        assert_eq!(status.code(), expected, "{shown}");
        assert_eq!(status.message(), shown);
    }
}

#[test]
fn grpc_message_is_code_and_description() {
    let status = tonic::Status::from(bearer().invalid_token("service token expired"));
    assert_eq!(status.message(), "invalid_token: service token expired");
    let status = tonic::Status::from(bearer().missing_credentials());
    assert_eq!(status.message(), "authentication required");
}

#[test]
fn unsupported_grant_and_token_types_convert_to_their_oauth_errors() {
    let error = OAuthError::from("password".parse::<crate::GrantType>().unwrap_err());
    assert_eq!(error.code(), Some(ErrorCode::UnsupportedGrantType));
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);

    let error = OAuthError::from("saml".parse::<crate::TokenType>().unwrap_err());
    assert_eq!(error.code(), Some(ErrorCode::InvalidRequest));
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn every_401_carries_a_challenge() {
    let errors = [
        bearer().missing_credentials(),
        bearer().invalid_token("d"),
        dpop().missing_credentials(),
        dpop().invalid_token("d"),
        dpop().invalid_dpop_proof("d"),
        dpop().use_dpop_nonce(nonce(), "d"),
    ];
    for error in errors {
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        assert!(error.www_authenticate().is_some(), "{error}");
    }
}

/// Reads a challenge back as RFC 9110 §11.2 defines it: `scheme 1*SP auth-param *( ", "
/// auth-param )` with every value a quoted-string. `None` if it does not have that shape.
fn parse_challenge(value: &str) -> Option<(String, Vec<(String, String)>)> {
    let (scheme, mut rest) = value.split_once(' ')?;
    let mut params = Vec::new();
    loop {
        let (name, after) = rest.split_once("=\"")?;
        let mut text = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => text.push(chars.next()?.1),
                (at, '"') => break at,
                (_, c) => text.push(c),
            }
        };
        params.push((name.to_owned(), text));
        rest = &after[end + 1..];
        if rest.is_empty() {
            return Some((scheme.to_owned(), params));
        }
        rest = rest.strip_prefix(", ")?;
    }
}

/// Deterministic hostile strings (xorshift64*, fixed seed) in every caller-supplied part of a
/// challenge: the header value is always a valid, single-line `WWW-Authenticate` whose
/// parameters read back as exactly what was accepted, so nothing can add a parameter or a line.
#[test]
fn hostile_challenge_parts_never_break_the_header() {
    const ALPHABET: &[char] = &[
        'a', 'Z', '0', ' ', '"', '\\', ',', '=', ':', '\r', '\n', '\0', '\t', '\u{7f}', 'é',
        '\u{2028}', '\u{feff}',
    ];
    let mut state: u64 = 0x3c6e_f372_fe94_f82b;
    let mut below = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
    };
    let mut rendered = 0;
    for _ in 0..3000 {
        let mut text = || -> String {
            let len = below(12) * if below(10) == 0 { 40 } else { 1 };
            (0..len).map(|_| ALPHABET[below(ALPHABET.len())]).collect()
        };
        let (mut realm, description, scope, alg, nonce) = (text(), text(), text(), text(), text());
        if realm.chars().any(|c| !(' '..='~').contains(&c)) {
            // Keep realms that quote and escape, not only ones refused outright.
            realm = realm.replace(|c: char| !(' '..='~').contains(&c), "\\\"");
        }
        let challenge = match below(2) {
            0 => BearerChallenge::new(&realm).map(|c| {
                (
                    c.invalid_token(description.clone()),
                    c.insufficient_scope(&scope, description.clone()),
                )
            }),
            _ => DpopChallenge::new(&realm, &["ES256", &alg]).map(|c| {
                let error = match DpopNonce::new(nonce.clone()) {
                    Ok(nonce) => c.use_dpop_nonce(nonce, description.clone()),
                    Err(_) => c.invalid_dpop_proof(description.clone()),
                };
                (error, c.insufficient_scope(&scope, description.clone()))
            }),
        };
        let Ok((error, scoped)) = challenge else {
            continue;
        };
        for error in [error, scoped] {
            rendered += 1;
            let value = error.www_authenticate_value().unwrap();
            assert!(error.www_authenticate().is_some(), "{value:?}");
            assert!(
                value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{value:?}"
            );
            let (_, params) = parse_challenge(&value).unwrap_or_else(|| panic!("{value:?}"));
            let get = |name: &str| {
                params
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(get("realm"), Some(realm.as_str()), "{value:?}");
            assert_eq!(
                get("error_description"),
                error.description().map(ErrorDescription::as_str),
                "{value:?}"
            );
            let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
            assert!(
                names
                    .iter()
                    .all(|n| ["realm", "scope", "error", "error_description", "algs"].contains(n)),
                "{value:?}"
            );
            if let Some(nonce) = error.dpop_nonce() {
                assert!(HeaderValue::from_str(nonce.as_str()).is_ok());
            }
        }
    }
    assert!(rendered > 500, "{rendered}");
}

/// Hostile `Authorization` values never panic the parser, and a token it hands out is always
/// `token68`: no space, comma, quote or control character can reach a validator or a log.
#[test]
fn hostile_authorization_values_yield_only_token68() {
    const ALPHABET: &[char] = &[
        'B', 'e', 'a', 'r', 'D', 'P', 'o', ' ', '=', '.', '"', ',', '\t', '\n', 'é',
    ];
    let mut state: u64 = 0xa54f_f53a_5f1d_36f1;
    let mut below = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        usize::try_from(state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64).unwrap()
    };
    for round in 0..5000 {
        let prefix = ["Bearer ", "DPoP ", "dpop", ""][round % 4];
        let tail: String = (0..below(16))
            .map(|_| ALPHABET[below(ALPHABET.len())])
            .collect();
        let value = format!("{prefix}{tail}");
        if let Ok(credentials) = crate::Credentials::parse(&value) {
            let token = credentials.token();
            assert!(!token.is_empty(), "{value:?}");
            assert!(
                token
                    .trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
                "{value:?}"
            );
        }
    }
}
