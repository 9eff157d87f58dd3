//! What every handler shares: configuration, clock, database, keys, verifiers. Built once at
//! start-up; nothing here is rebuilt per request.

use std::sync::Arc;

use ring::rand::SystemRandom;
use storage::Database;
use storage::signing_keys::LiveKeys;
use tokens::dpop::{DpopConfig, NonceSource};
use tokens::{DpopVerifier, Htu, SharedClock};

use crate::auth::password::PasswordHasherPool;
use crate::auth::throttle::Throttle;
use crate::config::Config;

/// The paths of the provider's endpoints (joined to the issuer for the metadata).
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AS_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/jwks";
    pub const AUTHORIZE: &str = "/authorize";
    pub const LOGIN: &str = "/login";
    pub const LOGIN_TOTP: &str = "/login/totp";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const LOGOUT: &str = "/logout";
    pub const HEALTHZ: &str = "/healthz";
}

/// Endpoint URLs, computed once.
#[derive(Debug)]
pub struct Urls {
    pub token: String,
    pub token_htu: Htu,
    pub userinfo: String,
    pub userinfo_htu: Htu,
}

/// The shared state; handlers receive `AppState` (an `Arc`).
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub clock: SharedClock,
    pub db: Database,
    pub keys: Arc<LiveKeys>,
    pub passwords: PasswordHasherPool,
    pub throttle: Throttle,
    pub rng: SystemRandom,
    pub dpop: DpopVerifier,
    pub urls: Urls,
}

pub type AppState = Arc<Shared>;

/// Why the shared state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("an endpoint URL is not a valid DPoP `htu`: {0}")]
    Htu(#[from] tokens::dpop::HtuError),
    #[error("DPoP verifier: {0}")]
    Dpop(#[from] tokens::dpop::DpopConfigError),
    #[error("password hashing: {0}")]
    Password(#[from] crate::auth::password::PasswordError),
}

impl Shared {
    pub fn new(
        config: Config,
        clock: SharedClock,
        db: Database,
        keys: Arc<LiveKeys>,
    ) -> Result<Self, StateError> {
        let token = config.issuer.endpoint(paths::TOKEN);
        let userinfo = config.issuer.endpoint(paths::USERINFO);
        let urls = Urls {
            token_htu: Htu::parse(&token)?,
            userinfo_htu: Htu::parse(&userinfo)?,
            token,
            userinfo,
        };
        let mut dpop = DpopVerifier::new(DpopConfig::default(), clock.clone())?;
        if config.dpop_nonces {
            // Nonces live a few minutes; replicas that should accept each other's nonces need a
            // shared secret, which this single-instance default does not configure.
            dpop = dpop.require_nonces(NonceSource::generate(300)?);
        }
        Ok(Self {
            throttle: Throttle::new(config.throttle.clone()),
            passwords: PasswordHasherPool::new()?,
            rng: SystemRandom::new(),
            dpop,
            urls,
            config,
            clock,
            db,
            keys,
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        self.db.pool()
    }
}
