//! JSON lines with the envelope documented in [`crate::format`].

use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

pub(crate) struct JsonLines {
    service: &'static str,
}

impl JsonLines {
    pub(crate) fn new(service: &'static str) -> Self {
        Self { service }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    timestamp: String,
    level: &'static str,
    service: &'static str,
    target: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<Value>,
    fields: Map<String, Value>,
    spans: Vec<Value>,
}

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;

        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));

        let spans: Vec<Value> = ctx
            .event_scope()
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let mut object = Map::new();
                        object.insert("name".into(), span.name().into());
                        if let Some(recorded) =
                            span.extensions().get::<FormattedFields<JsonFields>>()
                            && let Ok(Value::Object(recorded)) =
                                serde_json::from_str::<Value>(&recorded.fields)
                        {
                            object.extend(recorded);
                        }
                        Value::Object(object)
                    })
                    .collect()
            })
            .unwrap_or_default();

        let request_id = fields
            .get("request_id")
            .or_else(|| spans.iter().rev().find_map(|span| span.get("request_id")))
            .cloned();

        let line = Line {
            timestamp,
            level: metadata.level().as_str(),
            service: self.service,
            target: metadata.target(),
            request_id,
            fields,
            spans,
        };
        let json = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{json}")
    }
}

/// Collects an event's fields as JSON values, keeping numbers and booleans typed.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}
