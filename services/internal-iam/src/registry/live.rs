//! The server's in-memory view of the registrations, reloaded in the background.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use storage::Database;
use tokens::Validator;
use tokio::time::MissedTickBehavior;

use super::Registration;
use super::store::{self, StoreError};
use crate::subject::SubjectValidators;

/// A registration as the token endpoint uses it, with the validator for the subject tokens it
/// may exchange already built (a validator is made once, not per request).
#[derive(Debug)]
pub struct RegisteredWorkload {
    pub registration: Registration,
    /// `Some` exactly when the registration has the exchange right.
    pub subject_validator: Option<Validator>,
}

type Snapshot = HashMap<String, Arc<RegisteredWorkload>>;

/// Registrations by SPIFFE ID, swapped atomically on reload. The request path takes a read lock
/// and a hash lookup; a change made by an admin command in another process is seen within one
/// refresh interval.
#[derive(Debug)]
pub struct LiveRegistry {
    db: Database,
    validators: SubjectValidators,
    current: RwLock<Arc<Snapshot>>,
}

impl LiveRegistry {
    /// Loads the registrations and starts reloading them every `refresh` (until dropped).
    pub async fn start(
        db: Database,
        validators: SubjectValidators,
        refresh: Duration,
    ) -> Result<Arc<Self>, StoreError> {
        let live = Arc::new(Self {
            db,
            validators,
            current: RwLock::new(Arc::default()),
        });
        live.refresh_now().await?;
        tokio::spawn(refresh_loop(Arc::downgrade(&live), refresh));
        Ok(live)
    }

    /// The registration of `spiffe_id`, if there is one.
    pub fn get(&self, spiffe_id: &str) -> Option<Arc<RegisteredWorkload>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(spiffe_id)
            .cloned()
    }

    /// Reloads now.
    pub async fn refresh_now(&self) -> Result<(), StoreError> {
        let registrations = store::list(&self.db).await?;
        let mut snapshot = Snapshot::with_capacity(registrations.len());
        for registration in registrations {
            let subject_validator = match &registration.exchange {
                None => None,
                Some(right) => match self
                    .validators
                    .for_audience(right.subject_audience.as_str())
                {
                    Ok(validator) => Some(validator),
                    Err(error) => {
                        // Only an empty audience could fail here, and parsing refuses those.
                        tracing::warn!(
                            spiffe_id = %registration.spiffe_id, %error,
                            "cannot validate subject tokens for this registration; its exchange right is suspended"
                        );
                        None
                    }
                },
            };
            snapshot.insert(
                registration.spiffe_id.as_str().to_owned(),
                Arc::new(RegisteredWorkload {
                    registration,
                    subject_validator,
                }),
            );
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
        Ok(())
    }
}

async fn refresh_loop(live: Weak<LiveRegistry>, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(live) = live.upgrade() else { break };
        if let Err(error) = live.refresh_now().await {
            tracing::warn!(%error, "reloading registrations failed; keeping the current ones");
        }
    }
}
