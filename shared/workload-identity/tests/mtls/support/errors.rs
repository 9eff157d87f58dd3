//! Finding the precise error inside what a TLS, HTTP or gRPC client returns.

use std::error::Error;
use std::io;

use workload_identity::SvidError;

/// The `SvidError` behind `error`; fails the test with the whole chain if there is none.
pub fn svid_error(error: &(dyn Error + 'static)) -> SvidError {
    match SvidError::find_in(error) {
        Some(found) => found.clone(),
        None => panic!("no SvidError in: {}", chain(error)),
    }
}

/// The `rustls::Error` somewhere in `error`'s source chain.
pub fn rustls_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        current = match error.downcast_ref::<io::Error>() {
            Some(io_error) => io_error
                .get_ref()
                .map(|inner| inner as &(dyn Error + 'static)),
            None => error.source(),
        };
    }
    None
}

/// The alert the peer sent, for the side that did not detect the problem.
pub fn received_alert(error: &(dyn Error + 'static)) -> rustls::AlertDescription {
    match rustls_error(error) {
        Some(rustls::Error::AlertReceived(alert)) => *alert,
        other => panic!(
            "expected a received alert, got {other:?} in: {}",
            chain(error)
        ),
    }
}

fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = format!("{error:?}");
    let mut current = error.source();
    while let Some(error) = current {
        text.push_str(" <- ");
        text.push_str(&format!("{error:?}"));
        current = error.source();
    }
    text
}
