//! What every request handler shares, built once at start.

use std::sync::Arc;

use ring::rand::SystemRandom;
use storage::Database;
use tokens::SharedClock;

use crate::agent_b::AgentB;
use crate::config::{Config, secs};
use crate::oidc::Oidc;
use crate::session::{CookiePolicy, KeyCache, RefreshLocks};

/// The shared state. Handlers receive it as [`AppState`].
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub clock: SharedClock,
    pub db: Database,
    pub oidc: Oidc,
    pub agent_b: AgentB,
    pub cookies: CookiePolicy,
    pub refresh_locks: RefreshLocks,
    pub dpop_keys: KeyCache,
    pub rng: SystemRandom,
    /// The `Content-Security-Policy` of every page, computed once.
    pub csp: http::HeaderValue,
}

/// The state as axum hands it to handlers.
pub type AppState = Arc<Shared>;

impl Shared {
    /// The clock's "now", in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        self.db.pool()
    }

    /// The session lifetime in seconds.
    pub fn session_lifetime(&self) -> i64 {
        secs(self.config.sessions.lifetime)
    }

    /// The login timeout in seconds.
    pub fn login_timeout(&self) -> i64 {
        secs(self.config.sessions.login_timeout)
    }
}
