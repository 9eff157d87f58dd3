//! The two line formats. Both start every line with the service name, so the interleaved output
//! of several programs (as in `make demo`) stays attributable.
//!
//! JSON lines have a fixed shape, one object per line:
//!
//! ```json
//! {"timestamp":"2025-01-01T12:00:00.000000Z","level":"INFO","service":"agent-a","target":"step",
//!  "request_id":"Yv1cS0rT3x8Q2mNp4LkJdA",
//!  "fields":{"message":"...","step":17,"request_id":"...","service":"agent-a","outcome":"ok",
//!            "duration_ms":1.42,"check":"service token"},
//!  "spans":[{"name":"request","request_id":"Yv1cS0rT3x8Q2mNp4LkJdA","trace_id":"4bf9..."}]}
//! ```
//!
//! `request_id` at the top level is the event's own `request_id` field or else that of the
//! innermost span carrying one; it is absent when neither exists. Event fields stay under
//! `fields`, so no field name can collide with the envelope.

pub(crate) mod human;
pub(crate) mod json;
