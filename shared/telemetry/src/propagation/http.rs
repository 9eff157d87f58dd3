//! HTTP: `X-Request-Context` on the web app → Agent B call, `X-Request-Id` back to every caller,
//! `traceparent` where a standard tracing peer is involved.

use super::{Field, PropagationError};
use crate::request_context::RequestContext;
use crate::request_id::RequestId;
use crate::traceparent::TraceParent;
use http::{HeaderMap, HeaderName, HeaderValue};
use wire::headers::{TRACEPARENT, X_REQUEST_CONTEXT, X_REQUEST_ID};

/// Sets `X-Request-Context`, replacing any value already there.
pub fn insert_request_context(headers: &mut HeaderMap, context: &RequestContext) {
    insert(headers, X_REQUEST_CONTEXT, &context.encode());
}

/// Reads `X-Request-Context`.
pub fn request_context(headers: &HeaderMap) -> Result<Option<RequestContext>, PropagationError> {
    single(headers, X_REQUEST_CONTEXT, Field::RequestContext)?
        .map(|value| RequestContext::decode(value).map_err(PropagationError::RequestContext))
        .transpose()
}

/// Sets `X-Request-Id` (on responses, so the caller can quote it).
pub fn insert_request_id(headers: &mut HeaderMap, request_id: &RequestId) {
    insert(headers, X_REQUEST_ID, request_id.as_str());
}

/// Reads `X-Request-Id`.
pub fn request_id(headers: &HeaderMap) -> Result<Option<RequestId>, PropagationError> {
    single(headers, X_REQUEST_ID, Field::RequestId)?
        .map(|value| RequestId::parse(value).map_err(PropagationError::RequestId))
        .transpose()
}

/// Sets `traceparent`.
pub fn insert_traceparent(headers: &mut HeaderMap, traceparent: &TraceParent) {
    insert(headers, TRACEPARENT, &traceparent.to_string());
}

/// Reads `traceparent`. W3C Trace Context §3.2: more than one `traceparent` is invalid.
pub fn traceparent(headers: &HeaderMap) -> Result<Option<TraceParent>, PropagationError> {
    single(headers, TRACEPARENT, Field::TraceParent)?
        .map(|value| TraceParent::parse(value).map_err(PropagationError::TraceParent))
        .transpose()
}

/// Values come from validated types (visible ASCII only), so the conversion cannot fail; were it
/// ever to, the header is left out and the receiver rejects the request for lacking it.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn single(
    headers: &HeaderMap,
    name: HeaderName,
    field: Field,
) -> Result<Option<&str>, PropagationError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(PropagationError::Duplicate(field));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| PropagationError::NotAscii(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InvalidRequestContext;
    use crate::request_id::InvalidRequestId;
    use crate::traceparent::InvalidTraceParent;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn context() -> RequestContext {
        RequestContext::new(
            RequestId::parse("Yv1cS0rT3x8Q2mNp4LkJdA").unwrap(),
            TraceParent::parse(TP).unwrap(),
        )
    }

    #[test]
    fn request_context_round_trips() {
        let mut headers = HeaderMap::new();
        insert_request_context(&mut headers, &context());
        assert_eq!(
            headers[&X_REQUEST_CONTEXT],
            r#"rid="Yv1cS0rT3x8Q2mNp4LkJdA", tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01""#
        );
        assert_eq!(request_context(&headers), Ok(Some(context())));
    }

    #[test]
    fn request_id_and_traceparent_round_trip() {
        let mut headers = HeaderMap::new();
        insert_request_id(&mut headers, &context().request_id);
        insert_traceparent(&mut headers, &context().traceparent);
        assert_eq!(headers[&X_REQUEST_ID], "Yv1cS0rT3x8Q2mNp4LkJdA");
        assert_eq!(headers[&TRACEPARENT], TP);
        assert_eq!(request_id(&headers), Ok(Some(context().request_id)));
        assert_eq!(traceparent(&headers), Ok(Some(context().traceparent)));
    }

    #[test]
    fn absent_fields_are_none() {
        let headers = HeaderMap::new();
        assert_eq!(request_context(&headers), Ok(None));
        assert_eq!(request_id(&headers), Ok(None));
        assert_eq!(traceparent(&headers), Ok(None));
    }

    #[test]
    fn duplicates_are_rejected() {
        let mut headers = HeaderMap::new();
        for name in [X_REQUEST_CONTEXT, X_REQUEST_ID, TRACEPARENT] {
            headers.append(name.clone(), HeaderValue::from_static("a"));
            headers.append(name, HeaderValue::from_static("b"));
        }
        assert_eq!(
            request_context(&headers),
            Err(PropagationError::Duplicate(Field::RequestContext))
        );
        assert_eq!(
            request_id(&headers),
            Err(PropagationError::Duplicate(Field::RequestId))
        );
        assert_eq!(
            traceparent(&headers),
            Err(PropagationError::Duplicate(Field::TraceParent))
        );
    }

    #[test]
    fn non_ascii_values_are_rejected() {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_bytes("abcdéfghij".as_bytes()).unwrap();
        headers.insert(X_REQUEST_ID, value);
        assert_eq!(
            request_id(&headers),
            Err(PropagationError::NotAscii(Field::RequestId))
        );
    }

    #[test]
    fn invalid_values_are_rejected_with_their_reason() {
        let mut headers = HeaderMap::new();
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("abc"));
        headers.insert(
            TRACEPARENT,
            HeaderValue::from_static("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        headers.insert(X_REQUEST_CONTEXT, HeaderValue::from_static("rid=abc"));
        assert_eq!(
            request_id(&headers),
            Err(PropagationError::RequestId(InvalidRequestId::TooShort))
        );
        assert_eq!(
            traceparent(&headers),
            Err(PropagationError::TraceParent(InvalidTraceParent::Version))
        );
        assert_eq!(
            request_context(&headers),
            Err(PropagationError::RequestContext(
                InvalidRequestContext::Malformed
            ))
        );
    }

    #[test]
    fn error_messages_name_the_field_but_not_the_value() {
        let error = PropagationError::RequestId(InvalidRequestId::InvalidCharacter(3));
        assert_eq!(
            error.to_string(),
            "invalid x-request-id: request id has a character outside A-Z a-z 0-9 - _ at offset 3"
        );
        let status = tonic::Status::from(PropagationError::Duplicate(Field::RequestContext));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "x-request-context appears more than once");
    }
}
