//! The request id of a token request: `X-Request-Id`, else the `rid` of `X-Request-Context`,
//! else a new one. It names the request in step events and the audit, becomes the `txn` of a
//! transaction token, and is returned in `X-Request-Id`.

use http::HeaderMap;
use telemetry::propagation::http as propagation;
use telemetry::{RequestId, SystemRandom};

/// The request's id, and what was wrong with the one the caller sent, if anything (the request
/// is then refused, under a freshly generated id).
pub(crate) fn from_headers(headers: &HeaderMap, rng: &SystemRandom) -> (RequestId, Option<String>) {
    let sent = match propagation::request_id(headers) {
        Ok(Some(id)) => Ok(Some(id)),
        Ok(None) => propagation::request_context(headers)
            .map(|context| context.map(|context| context.request_id)),
        Err(error) => Err(error),
    };
    match sent {
        Ok(Some(id)) => (id, None),
        Ok(None) => (generate(rng), None),
        Err(error) => (generate(rng), Some(error.to_string())),
    }
}

// The fallback literal is valid (22 base64url characters), so `expect` cannot fire.
#[allow(clippy::expect_used)]
fn generate(rng: &SystemRandom) -> RequestId {
    // Without randomness no token can be signed either; the request fails at signing, and this
    // id only labels its events.
    RequestId::generate(rng).unwrap_or_else(|_| {
        RequestId::parse("no-randomness-request").expect("a valid literal request id")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_context_or_generated() {
        let rng = SystemRandom::new();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-request-id",
            HeaderValue::from_static("Yv1cS0rT3x8Q2mNp4LkJdA"),
        );
        assert_eq!(
            from_headers(&headers, &rng).0.as_str(),
            "Yv1cS0rT3x8Q2mNp4LkJdA"
        );

        let mut headers = HeaderMap::new();
        headers.insert(
            "x-request-context",
            HeaderValue::from_static(
                r#"rid="abcdefgh12345678", tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#,
            ),
        );
        assert_eq!(from_headers(&headers, &rng).0.as_str(), "abcdefgh12345678");

        let (generated, problem) = from_headers(&HeaderMap::new(), &rng);
        assert_eq!(generated.as_str().len(), 22);
        assert!(problem.is_none());

        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("bad id!"));
        let (_, problem) = from_headers(&headers, &rng);
        assert!(problem.unwrap().contains("x-request-id"));
    }
}
