//! What the provider is told at start-up. Built from flags and environment variables by `main`
//! (see [`crate::cli`]), or directly by tests.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

/// The longest access-token lifetime accepted: the design's "access tokens ≤ 15 min".
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The authorization code lifetime (the design's 60 s; RFC 6749 §4.1.2 recommends at most 10 min).
pub const CODE_LIFETIME: i64 = 60;
/// How long a validated authorization request waits for the customer to log in.
pub const PENDING_AUTHORIZATION_LIFETIME: i64 = 15 * 60;

/// Why the configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the issuer must be an absolute http(s) URL without query or fragment: {0}")]
    Issuer(String),
    #[error("the access-token lifetime must be between 1 s and {} s", MAX_ACCESS_TOKEN_LIFETIME.as_secs())]
    AccessTokenLifetime,
    #[error("{0} must be at least one second")]
    Zero(&'static str),
}

/// The issuer identifier (OpenID Connect Discovery §3, RFC 8414 §2): an `http(s)` URL without
/// query or fragment, kept without a trailing slash so endpoint URLs are `issuer + path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let url = Url::parse(text).map_err(|_| ConfigError::Issuer(text.to_owned()))?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !ok {
            return Err(ConfigError::Issuer(text.to_owned()));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `issuer + path`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// Whether the issuer is served over TLS: decides the `Secure` attribute and the `__Host-`
    /// prefix of the session cookie.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// Login throttling (see [`crate::auth::throttle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures per account after which each further attempt must wait, doubling each time.
    pub account_delay_after: i64,
    /// Failures per account that lock it.
    pub account_lock_after: i64,
    /// Failures per client IP after which attempts must wait.
    pub ip_delay_after: i64,
    /// Failures per client IP that lock the IP out.
    pub ip_lock_after: i64,
    /// How long a lock lasts, and how long a counter remembers a failure.
    pub lock_duration: Duration,
    /// The longest enforced delay between attempts.
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_delay_after: 3,
            account_lock_after: 5,
            // An address may be shared by many customers (NAT, a corporate proxy), so its
            // thresholds are higher than an account's.
            ip_delay_after: 10,
            ip_lock_after: 30,
            lock_duration: Duration::from_secs(15 * 60),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Everything the running provider needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub issuer: Issuer,
    /// `sqlite://path` or `postgres://…`.
    pub database_url: String,
    pub access_token_lifetime: Duration,
    pub id_token_lifetime: Duration,
    /// Lifetime of each refresh token; rotation issues a new one with a fresh lifetime...
    pub refresh_token_lifetime: Duration,
    /// ...up to this absolute end of the chain, counted from the login's code redemption.
    pub refresh_family_lifetime: Duration,
    /// The single sign-on session.
    pub session_lifetime: Duration,
    /// How often the signing keys are reloaded from the database.
    pub key_refresh_interval: Duration,
    /// Require server nonces in DPoP proofs at the token endpoint (RFC 9449 §8).
    pub dpop_nonces: bool,
    pub throttle: ThrottlePolicy,
    /// Largest accepted form body.
    pub max_form_bytes: usize,
}

impl Config {
    /// Defaults for `issuer` and `database_url`, listening on `listen`.
    pub fn new(listen: SocketAddr, issuer: Issuer, database_url: impl Into<String>) -> Self {
        Self {
            listen,
            issuer,
            database_url: database_url.into(),
            access_token_lifetime: Duration::from_secs(10 * 60),
            id_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(8 * 60 * 60),
            refresh_family_lifetime: Duration::from_secs(24 * 60 * 60),
            session_lifetime: Duration::from_secs(8 * 60 * 60),
            key_refresh_interval: Duration::from_secs(5),
            dpop_nonces: false,
            throttle: ThrottlePolicy::default(),
            max_form_bytes: 16 * 1024,
        }
    }

    /// Checks the values that have limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.access_token_lifetime.is_zero()
            || self.access_token_lifetime > MAX_ACCESS_TOKEN_LIFETIME
        {
            return Err(ConfigError::AccessTokenLifetime);
        }
        for (name, value) in [
            ("the ID-token lifetime", self.id_token_lifetime),
            ("the refresh-token lifetime", self.refresh_token_lifetime),
            ("the refresh-family lifetime", self.refresh_family_lifetime),
            ("the session lifetime", self.session_lifetime),
            ("the key refresh interval", self.key_refresh_interval),
        ] {
            if value.as_secs() == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }

    /// The longest-lived token signed: what the key store's retention rule must cover.
    pub fn max_signed_lifetime(&self) -> Duration {
        self.access_token_lifetime.max(self.id_token_lifetime)
    }
}

/// Whole seconds of a duration, saturating.
pub fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_normalised_and_checked() {
        let issuer = Issuer::parse("http://localhost:9000/").unwrap();
        assert_eq!(issuer.as_str(), "http://localhost:9000");
        assert_eq!(issuer.endpoint("/token"), "http://localhost:9000/token");
        assert!(!issuer.is_https());
        assert!(
            Issuer::parse("https://iam.example/tenant")
                .unwrap()
                .is_https()
        );
        for bad in [
            "localhost:9000",
            "ftp://x",
            "https://x/?a=b",
            "https://x/#f",
            "https://u@x",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn access_token_lifetime_is_capped_at_15_minutes() {
        let mut config = Config::new(
            "127.0.0.1:0".parse().unwrap(),
            Issuer::parse("http://localhost:9000").unwrap(),
            "sqlite://x.db",
        );
        assert_eq!(config.validate(), Ok(()));
        config.access_token_lifetime = Duration::from_secs(901);
        assert_eq!(config.validate(), Err(ConfigError::AccessTokenLifetime));
    }
}
