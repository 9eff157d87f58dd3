//! gRPC: `x-request-id` and `traceparent` metadata on the Agent B → Agent A → Service A2 calls.
//! Both travel together; one without the other is rejected.

use super::{Field, PropagationError};
use crate::request_context::RequestContext;
use crate::request_id::RequestId;
use crate::traceparent::TraceParent;
use tonic::metadata::{MetadataMap, MetadataValue};
use wire::metadata::{REQUEST_ID, TRACEPARENT};

/// Sets `x-request-id` and `traceparent`, replacing any values already there. Callers pass the
/// context of the outgoing call, normally [`TraceParent::child`] of the incoming one.
pub fn insert(metadata: &mut MetadataMap, context: &RequestContext) {
    insert_value(metadata, REQUEST_ID, context.request_id.as_str());
    insert_value(metadata, TRACEPARENT, &context.traceparent.to_string());
}

/// Reads `x-request-id` and `traceparent`: `Ok(None)` if neither is present.
pub fn extract(metadata: &MetadataMap) -> Result<Option<RequestContext>, PropagationError> {
    let request_id = single(metadata, REQUEST_ID, Field::RequestId)?;
    let traceparent = single(metadata, TRACEPARENT, Field::TraceParent)?;
    let (request_id, traceparent) = match (request_id, traceparent) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(PropagationError::Missing(Field::TraceParent)),
        (None, Some(_)) => return Err(PropagationError::Missing(Field::RequestId)),
        (Some(request_id), Some(traceparent)) => (request_id, traceparent),
    };
    Ok(Some(RequestContext::new(
        RequestId::parse(request_id).map_err(PropagationError::RequestId)?,
        TraceParent::parse(traceparent).map_err(PropagationError::TraceParent)?,
    )))
}

/// Values come from validated types (visible ASCII only), so the conversion cannot fail; were it
/// ever to, the key is left out and the receiver rejects the call for lacking it.
fn insert_value(metadata: &mut MetadataMap, key: &'static str, value: &str) {
    if let Ok(value) = MetadataValue::try_from(value) {
        metadata.insert(key, value);
    }
}

fn single<'a>(
    metadata: &'a MetadataMap,
    key: &'static str,
    field: Field,
) -> Result<Option<&'a str>, PropagationError> {
    let mut values = metadata.get_all(key).iter();
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
    use crate::request_id::InvalidRequestId;
    use crate::traceparent::InvalidTraceParent;

    const RID: &str = "Yv1cS0rT3x8Q2mNp4LkJdA";
    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn context() -> RequestContext {
        RequestContext::new(
            RequestId::parse(RID).unwrap(),
            TraceParent::parse(TP).unwrap(),
        )
    }

    fn metadata(pairs: &[(&'static str, &'static str)]) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        for (key, value) in pairs {
            metadata.append(*key, MetadataValue::from_static(value));
        }
        metadata
    }

    #[test]
    fn round_trips() {
        let mut md = MetadataMap::new();
        insert(&mut md, &context());
        assert_eq!(md.get(REQUEST_ID).unwrap(), RID);
        assert_eq!(md.get(TRACEPARENT).unwrap(), TP);
        assert_eq!(extract(&md), Ok(Some(context())));
    }

    #[test]
    fn insert_replaces_existing_values() {
        let mut md = metadata(&[
            (REQUEST_ID, "old-request-id"),
            (REQUEST_ID, "other-request-id"),
        ]);
        insert(&mut md, &context());
        assert_eq!(md.get_all(REQUEST_ID).iter().count(), 1);
        assert_eq!(extract(&md), Ok(Some(context())));
    }

    #[test]
    fn neither_field_is_none() {
        assert_eq!(extract(&MetadataMap::new()), Ok(None));
    }

    #[test]
    fn one_field_without_the_other_is_rejected() {
        assert_eq!(
            extract(&metadata(&[(REQUEST_ID, RID)])),
            Err(PropagationError::Missing(Field::TraceParent))
        );
        assert_eq!(
            extract(&metadata(&[(TRACEPARENT, TP)])),
            Err(PropagationError::Missing(Field::RequestId))
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        assert_eq!(
            extract(&metadata(&[
                (REQUEST_ID, RID),
                (REQUEST_ID, RID),
                (TRACEPARENT, TP)
            ])),
            Err(PropagationError::Duplicate(Field::RequestId))
        );
        assert_eq!(
            extract(&metadata(&[
                (REQUEST_ID, RID),
                (TRACEPARENT, TP),
                (TRACEPARENT, TP)
            ])),
            Err(PropagationError::Duplicate(Field::TraceParent))
        );
    }

    #[test]
    fn non_ascii_values_are_rejected() {
        let mut md = metadata(&[(TRACEPARENT, TP)]);
        md.insert(
            REQUEST_ID,
            MetadataValue::try_from("abcdéfgh".as_bytes()).unwrap(),
        );
        assert_eq!(
            extract(&md),
            Err(PropagationError::NotAscii(Field::RequestId))
        );
    }

    #[test]
    fn invalid_values_are_rejected_with_their_reason() {
        assert_eq!(
            extract(&metadata(&[(REQUEST_ID, "abc def gh"), (TRACEPARENT, TP)])),
            Err(PropagationError::RequestId(
                InvalidRequestId::InvalidCharacter(3)
            ))
        );
        assert_eq!(
            extract(&metadata(&[
                (REQUEST_ID, RID),
                (
                    TRACEPARENT,
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"
                )
            ])),
            Err(PropagationError::TraceParent(
                InvalidTraceParent::ZeroParentId
            ))
        );
    }
}
