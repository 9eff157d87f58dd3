//! What the web app is told at start-up: validated values, built from flags and environment
//! variables by [`crate::cli`] or directly by tests.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;
use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};

/// The RFC 8707 resource the web app asks tokens for: Agent B's API identifier, which becomes
/// the access token's `aud`.
pub const DEFAULT_RESOURCE: &str = "https://agent-b.namespace-b.demo.test";

/// Why a configuration value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the public URL must be http(s)://host[:port] with no path, query or fragment: {0:?}")]
    PublicUrl(String),
    #[error("the issuer must be an absolute http(s) URL without query or fragment: {0:?}")]
    Issuer(String),
    #[error(
        "the issuer {0:?} is plain http on a host that is not loopback; use https, or \
         --allow-plain-http-issuer on a private demo network"
    )]
    PlainHttpIssuer(String),
    #[error("{name} must be an absolute http(s) URL without fragment: {value:?}")]
    Url { name: &'static str, value: String },
    #[error("Agent B's URL must be https (the call is mutual TLS): {0:?}")]
    AgentBUrl(String),
    #[error("Agent B's SPIFFE ID {id} is outside the trust domain {trust_domain}")]
    AgentBOutsideTrustDomain { id: String, trust_domain: String },
    #[error("the client id must be 1 to 128 visible ASCII characters")]
    ClientId,
    #[error("the client secret must not be empty")]
    EmptySecret,
    #[error("{0} must be at least one second")]
    Zero(&'static str),
    #[error("the refresh margin must be shorter than the session lifetime")]
    RefreshMargin,
}

/// A secret (the client secret). `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`, refusing an empty one.
    pub fn new(value: impl Into<String>) -> Result<Self, ConfigError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Self(value))
    }

    /// The secret itself, for the one place that sends it (HTTP Basic at the token endpoint).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A database URL; `Debug` and `Display` show the scheme only, since the rest may hold a
/// password.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, for connecting. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.split_once(':').map_or("?", |(scheme, _)| scheme);
        write!(f, "{scheme}:(redacted)")
    }
}

/// Where browsers reach the web app: `http(s)://host[:port]`, the origin every absolute URL
/// the app hands out (redirect URI, post-logout URI) is built from. Being an origin and not a
/// path is what lets the session cookie be `Path=/` with the `__Host-` prefix over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let error = || ConfigError::PublicUrl(text.to_owned());
        let url = Url::parse(text).map_err(|_| error())?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !ok {
            return Err(error());
        }
        Ok(Self(url))
    }

    /// Served over TLS: the session cookies are `Secure` and `__Host-` prefixed.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(path);
        url
    }

    /// The origin, as `form-action` and friends want it (`http://localhost:8080`).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// An issuer identifier, kept exactly as configured: OpenID Connect Discovery §4.3 and RFC 9207
/// compare issuers as strings, so `http://localhost:9000` and `http://localhost:9000/` are
/// different issuers and no normalisation may make them equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    url: Url,
}

impl Issuer {
    /// An absolute http(s) URL without query, fragment or user information.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let error = || ConfigError::Issuer(text.to_owned());
        let url = Url::parse(text).map_err(|_| error())?;
        let shape = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !shape {
            return Err(error());
        }
        Ok(Self {
            text: text.to_owned(),
            url,
        })
    }

    /// The identifier, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Plain http to a host that is not loopback.
    fn is_exposed_plain_http(&self) -> bool {
        self.url.scheme() == "http" && !is_loopback(&self.url)
    }
}

/// The external IAM, the OpenID Connect provider the customer logs in at, and this client's
/// registration there.
#[derive(Debug, Clone)]
pub struct IamConfig {
    /// The issuer identifier; discovery is `issuer + /.well-known/openid-configuration`.
    pub issuer: Issuer,
    /// PEM file of the CA certificates trusted for an `https` issuer (none: only `http` on
    /// loopback works, as on the dev issuer).
    pub ca_file: Option<PathBuf>,
    /// Allow a plain-`http` issuer on a non-loopback host (a private demo network only).
    pub allow_plain_http: bool,
    pub client_id: String,
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    pub client_secret: Secret,
    /// The registered callback, `public_url + /auth/callback` unless set.
    pub redirect_uri: Url,
    /// The registered post-logout URI, `public_url + /` unless set.
    pub post_logout_redirect_uri: Url,
    /// The RFC 8707 resource of every authorization and token request.
    pub resource: String,
    /// Timeout of each request to the IAM.
    pub timeout: Duration,
}

/// Agent B, which the chat page calls over mutual TLS.
#[derive(Debug, Clone)]
pub struct AgentBConfig {
    /// The chat endpoint, `https://host:port/v1/chat`: dialled, and the DPoP proof's `htu`.
    pub chat_url: Url,
    /// The only SPIFFE ID accepted as Agent B.
    pub spiffe_id: SpiffeId,
    /// How long one chat call may take end to end (Agent B waits on the internal IAM, Agent A
    /// and Service A2).
    pub timeout: Duration,
}

/// Lifetimes of the web app's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Absolute lifetime of a session from login: after it, the customer logs in again even
    /// if the refresh token would still work.
    pub lifetime: Duration,
    /// How long a started login (state, nonce, PKCE verifier, DPoP key) waits for the callback.
    pub login_timeout: Duration,
    /// The access token is refreshed when it has less than this left.
    pub refresh_margin: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(8 * 60 * 60),
            login_timeout: Duration::from_secs(10 * 60),
            refresh_margin: Duration::from_secs(60),
        }
    }
}

/// Everything the running web app needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The browser-facing listener (plain HTTP in development; TLS is terminated in front).
    pub listen: SocketAddr,
    pub public_url: PublicUrl,
    pub iam: IamConfig,
    pub agent_b: AgentBConfig,
    pub trust_domain: TrustDomain,
    /// This workload's SVID, key and trust bundle (reloaded when they change).
    pub identity: IdentityFiles,
    pub database_url: DatabaseUrl,
    pub sessions: SessionPolicy,
}

impl Config {
    /// A configuration with the defaults for everything not given: the redirect and
    /// post-logout URIs derive from `public_url`, Agent B is the trust domain's `agent-b`.
    pub fn new(
        public_url: PublicUrl,
        issuer: Issuer,
        client_secret: Secret,
        agent_b_chat_url: Url,
        trust_domain: TrustDomain,
        identity: IdentityFiles,
        database_url: DatabaseUrl,
    ) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            iam: IamConfig {
                issuer,
                ca_file: None,
                allow_plain_http: false,
                client_id: workloads::WEB_APP.name().to_owned(),
                client_secret,
                redirect_uri: public_url.join(crate::http::paths::CALLBACK),
                post_logout_redirect_uri: public_url.join(crate::http::paths::HOME),
                resource: DEFAULT_RESOURCE.to_owned(),
                timeout: Duration::from_secs(10),
            },
            agent_b: AgentBConfig {
                chat_url: agent_b_chat_url,
                spiffe_id: workloads::AGENT_B.spiffe_id(&trust_domain),
                timeout: Duration::from_secs(30),
            },
            public_url,
            trust_domain,
            identity,
            database_url,
            sessions: SessionPolicy::default(),
        }
    }

    /// The rules no single value can check alone.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // Tokens and the client secret travel to the issuer, and its keys decide whom the app
        // believes: over plain http anyone on the path could substitute them.
        if self.iam.issuer.is_exposed_plain_http() && !self.iam.allow_plain_http {
            return Err(ConfigError::PlainHttpIssuer(
                self.iam.issuer.as_str().to_owned(),
            ));
        }
        for (name, url) in [
            ("the redirect URI", &self.iam.redirect_uri),
            (
                "the post-logout redirect URI",
                &self.iam.post_logout_redirect_uri,
            ),
        ] {
            if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
                return Err(ConfigError::Url {
                    name,
                    value: url.to_string(),
                });
            }
        }
        let id = &self.iam.client_id;
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::ClientId);
        }
        if self.agent_b.chat_url.scheme() != "https" || self.agent_b.chat_url.host().is_none() {
            return Err(ConfigError::AgentBUrl(self.agent_b.chat_url.to_string()));
        }
        if !self.agent_b.spiffe_id.is_member_of(&self.trust_domain) {
            return Err(ConfigError::AgentBOutsideTrustDomain {
                id: self.agent_b.spiffe_id.to_string(),
                trust_domain: self.trust_domain.to_string(),
            });
        }
        for (name, value) in [
            ("the session lifetime", self.sessions.lifetime),
            ("the login timeout", self.sessions.login_timeout),
            ("the IAM timeout", self.iam.timeout),
            ("the Agent B timeout", self.agent_b.timeout),
        ] {
            if value.as_secs() == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.sessions.refresh_margin >= self.sessions.lifetime {
            return Err(ConfigError::RefreshMargin);
        }
        Ok(())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A duration in whole seconds, saturating.
pub(crate) fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let td = TrustDomain::new("demo.test").unwrap();
        Config::new(
            PublicUrl::parse("http://localhost:8080").unwrap(),
            Issuer::parse("http://localhost:9000").unwrap(),
            Secret::new("s3cret-value").unwrap(),
            Url::parse("https://localhost:7445/v1/chat").unwrap(),
            td,
            IdentityFiles::in_pki_dir("var/pki", "web-app"),
            DatabaseUrl::new("sqlite://x.db"),
        )
    }

    #[test]
    fn defaults_derive_from_the_public_url() {
        let config = config();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(
            config.iam.redirect_uri.as_str(),
            "http://localhost:8080/auth/callback"
        );
        assert_eq!(
            config.iam.post_logout_redirect_uri.as_str(),
            "http://localhost:8080/"
        );
        assert_eq!(
            config.agent_b.spiffe_id.as_str(),
            "spiffe://demo.test/ns/namespace-b/sa/agent-b"
        );
        assert!(!config.public_url.is_https());
        assert_eq!(config.public_url.origin(), "http://localhost:8080");
    }

    #[test]
    fn public_url_is_an_origin() {
        assert!(PublicUrl::parse("https://app.example").unwrap().is_https());
        for bad in [
            "localhost:8080",
            "ftp://x",
            "https://x/app",
            "https://x/?q",
            "https://x/#f",
            "https://u@x",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_issuers_only_on_loopback_unless_allowed() {
        let mut config = config();
        for ok in [
            "http://127.0.0.1:9000",
            "http://[::1]:9000",
            "https://iam.example",
        ] {
            config.iam.issuer = Issuer::parse(ok).unwrap();
            assert_eq!(config.validate(), Ok(()), "{ok}");
        }
        config.iam.issuer = Issuer::parse("http://external-iam:9000").unwrap();
        assert!(matches!(
            config.validate(),
            Err(ConfigError::PlainHttpIssuer(_))
        ));
        config.iam.allow_plain_http = true;
        assert_eq!(config.validate(), Ok(()));
        for bad in [
            "https://iam.example/?tenant=1",
            "iam.example",
            "https://u@iam.example",
        ] {
            assert!(
                matches!(Issuer::parse(bad), Err(ConfigError::Issuer(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Issuer::parse("http://localhost:9000/").unwrap().as_str(),
            "http://localhost:9000/",
            "kept byte for byte"
        );
    }

    #[test]
    fn agent_b_is_https_inside_the_trust_domain() {
        let mut config = config();
        config.agent_b.chat_url = Url::parse("http://localhost:8444/v1/chat").unwrap();
        assert!(matches!(config.validate(), Err(ConfigError::AgentBUrl(_))));
        let mut config = self::config();
        config.agent_b.spiffe_id =
            SpiffeId::parse("spiffe://other.test/ns/namespace-b/sa/agent-b").unwrap();
        assert!(matches!(
            config.validate(),
            Err(ConfigError::AgentBOutsideTrustDomain { .. })
        ));
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2-hunter2").unwrap();
        assert_eq!(
            format!("{secret:?} {secret}"),
            "Secret(<redacted>) <redacted>"
        );
        assert_eq!(Secret::new("").unwrap_err(), ConfigError::EmptySecret);
        let url = DatabaseUrl::new("postgres://web:hunter2@db/web");
        assert_eq!(format!("{url:?}"), "postgres:(redacted)");
    }
}
