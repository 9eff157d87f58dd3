//! One request to the internal IAM's token endpoint (RFC 6749 §4.4 and RFC 8693 §2.1) and the
//! reading of its answer (RFC 6749 §5.1 and §5.2).

use std::fmt;

use http::header::{ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use serde::Deserialize;
use telemetry::propagation::http as propagation;
use telemetry::{RequestContext, SystemRandom};
use url::Url;

use super::IamError;

/// A token response is a few kilobytes; anything larger is not one.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A token as the IAM issued it. `Debug` leaves the token out.
#[derive(Clone)]
pub struct IssuedToken {
    pub(super) token: String,
    /// Seconds the token lives, as the response says.
    pub(super) expires_in: i64,
    /// The token's `jti`, for log lines only (see [`unverified_jti`]).
    pub(super) jti: String,
}

impl IssuedToken {
    /// The token, to send on and never to log.
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// Its `jti`, for logs.
    pub fn jti(&self) -> &str {
        &self.jti
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("jti", &self.jti)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The members of a successful response this client reads (RFC 6749 §5.1, RFC 8693 §2.2.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: i64,
    #[serde(default)]
    issued_token_type: Option<String>,
}

/// RFC 6749 §5.2.
#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// What a response must say to be accepted.
pub(super) struct Expect {
    /// For error messages: `client_credentials` or `token exchange`.
    pub(super) grant: &'static str,
    /// `token_type`, compared case-insensitively (RFC 6749 §7.1).
    pub(super) token_type: &'static str,
    /// `issued_token_type`, when the grant returns one (RFC 8693 §2.2.1).
    pub(super) issued_token_type: Option<&'static str>,
    /// The longest lifetime believed; a longer `expires_in` is refused.
    pub(super) max_lifetime: i64,
}

/// Posts `form` to `url` with the request id and a child trace context of `context`, and reads
/// the token from the answer.
pub(super) async fn token_request(
    client: &reqwest::Client,
    url: &Url,
    form: &[(&str, &str)],
    context: &RequestContext,
    rng: &SystemRandom,
    expect: &Expect,
) -> Result<IssuedToken, IamError> {
    let grant = expect.grant;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut headers = http::HeaderMap::new();
    propagation::insert_request_id(&mut headers, &context.request_id);
    let child = context
        .traceparent
        .child(rng)
        .map_err(|_| IamError::Randomness)?;
    propagation::insert_traceparent(&mut headers, &child);
    let mut response = client
        .post(url.clone())
        .headers(headers)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|error| IamError::Unreachable(error_chain(&error)))?;

    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| IamError::Unreachable(error_chain(&error)))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(IamError::Malformed {
                grant,
                reason: format!("the response is over {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        bytes.extend_from_slice(&chunk);
    }

    if status != StatusCode::OK {
        return Err(match serde_json::from_slice::<ErrorResponse>(&bytes) {
            Ok(error) => IamError::Refused {
                grant,
                status: status.as_u16(),
                error: shortened(&error.error),
                description: error.error_description.as_deref().map(shortened),
            },
            Err(_) => IamError::Malformed {
                grant,
                reason: format!("HTTP {} without an OAuth error body", status.as_u16()),
            },
        });
    }
    let answer: TokenResponse =
        serde_json::from_slice(&bytes).map_err(|error| IamError::Malformed {
            grant,
            reason: format!("not a token response: {error}"),
        })?;
    if !answer.token_type.eq_ignore_ascii_case(expect.token_type) {
        return Err(IamError::Malformed {
            grant,
            reason: format!(
                "token_type {:?}, expected {}",
                shortened(&answer.token_type),
                expect.token_type
            ),
        });
    }
    if answer.issued_token_type.as_deref() != expect.issued_token_type {
        return Err(IamError::Malformed {
            grant,
            reason: format!(
                "issued_token_type {:?}, expected {:?}",
                answer.issued_token_type.as_deref().map(shortened),
                expect.issued_token_type
            ),
        });
    }
    if !(1..=expect.max_lifetime).contains(&answer.expires_in) {
        return Err(IamError::Malformed {
            grant,
            reason: format!(
                "expires_in {} is outside 1..={}",
                answer.expires_in, expect.max_lifetime
            ),
        });
    }
    let jti = unverified_jti(&answer.access_token).ok_or_else(|| IamError::Malformed {
        grant,
        reason: "the token is not a JWT with a jti".to_owned(),
    })?;
    Ok(IssuedToken {
        token: answer.access_token,
        expires_in: answer.expires_in,
        jti,
    })
}

/// The `jti` of a JWT, read without verifying its signature: only to name the token in log
/// lines and the timeline. Agent B is not the token's audience and makes no decision on its
/// claims; it received the token over a mutual-TLS connection to the IAM's SPIFFE ID, and the
/// audience (Agent A) verifies it.
fn unverified_jti(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Peek {
        jti: String,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = tokens::b64::decode(payload).ok()?;
    let peek: Peek = serde_json::from_slice(&bytes).ok()?;
    (!peek.jti.is_empty()).then(|| shortened(&peek.jti))
}

/// Text from the IAM's answer, bounded and with control characters escaped, for log lines.
fn shortened(text: &str) -> String {
    const MAX_CHARS: usize = 120;
    let cut: String = text.chars().take(MAX_CHARS).collect();
    cut.escape_default().to_string()
}

/// reqwest's top-level message is often just "error sending request"; the cause is below.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_jti_of_a_jwt_only() {
        let payload = tokens::b64::encode(br#"{"jti":"svc-1","sub":"x"}"#);
        assert_eq!(
            unverified_jti(&format!("e30.{payload}.sig")).as_deref(),
            Some("svc-1")
        );
        let no_jti = tokens::b64::encode(br#"{"sub":"x"}"#);
        assert_eq!(unverified_jti(&format!("e30.{no_jti}.sig")), None);
        assert_eq!(unverified_jti("opaque-token"), None);
    }

    #[test]
    fn text_from_the_iam_is_bounded_and_escaped() {
        assert_eq!(shortened("a\nb"), "a\\nb");
        assert_eq!(shortened(&"x".repeat(500)).len(), 120);
    }
}
