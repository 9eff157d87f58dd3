//! Human-readable lines: the service name, then tracing-subscriber's full format.

use std::fmt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, FormatFields, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

pub(crate) struct HumanLines {
    service: &'static str,
    inner: Format<Full, SystemTime>,
}

impl HumanLines {
    pub(crate) fn new(service: &'static str) -> Self {
        Self {
            service,
            inner: Format::default(),
        }
    }
}

impl<S, N> FormatEvent<S, N> for HumanLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "{} ", self.service)?;
        self.inner.format_event(ctx, writer, event)
    }
}
