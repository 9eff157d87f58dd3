//! The configuration: every option is a flag and an environment variable (`AGENT_B_*`), with
//! defaults for the local demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;
use url::Url;
use workload_identity::{IdentityFiles, SpiffeId, TrustDomain, workloads};

/// Agent B's resource identifier at the external IAM in the demo: the `aud` of the customer
/// access tokens minted for this API (RFC 8707), and the audience the internal IAM's registration
/// lets Agent B exchange.
pub const DEV_RESOURCE: &str = "https://agent-b.namespace-b.demo.test";

/// How the program runs.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "agent-b",
    version,
    about = "Agent B: the chatbot's HTTPS + mTLS API. Validates the customer's DPoP-bound token, gets a service token and a transaction token from the internal IAM, and asks Agent A for account data."
)]
pub struct Config {
    /// Address of the HTTPS mutual-TLS listener.
    #[arg(long, env = "AGENT_B_LISTEN", default_value = "127.0.0.1:7445")]
    pub listen: SocketAddr,

    /// Address of an optional plain-HTTP listener that answers only `GET /healthz` (for probes
    /// that cannot present an SVID). Off unless set.
    #[arg(long, env = "AGENT_B_HEALTH_LISTEN")]
    pub health_listen: Option<SocketAddr>,

    /// The origin callers use to reach this API, `https://host[:port]`: DPoP proofs must name
    /// `<public url>/v1/chat` as their `htu`. Default: `https://localhost:<listening port>`.
    #[arg(long, env = "AGENT_B_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,

    /// The SPIFFE trust domain: the TLS layer admits its workloads only.
    #[arg(long, env = "AGENT_B_TRUST_DOMAIN", default_value = workloads::DEV_TRUST_DOMAIN, value_parser = parse_trust_domain)]
    pub trust_domain: TrustDomain,

    /// SPIFFE IDs allowed to call the chat API (comma-separated). Default: the web app of the
    /// trust domain, `spiffe://<trust domain>/ns/namespace-a/sa/web-app`.
    #[arg(long = "allowed-callers", env = "AGENT_B_ALLOWED_CALLERS", value_delimiter = ',', value_parser = parse_spiffe_id)]
    pub allowed_callers: Vec<SpiffeId>,

    #[command(flatten)]
    pub identity: IdentityArgs,

    #[command(flatten)]
    pub customer: CustomerTokenArgs,

    #[command(flatten)]
    pub iam: IamArgs,

    #[command(flatten)]
    pub agent_a: AgentAArgs,

    /// Worker threads of the runtime. Two serve this workload's load on a small machine and
    /// keep its idle memory low; each thread adds its stack and allocator arenas.
    #[arg(long, env = "AGENT_B_WORKER_THREADS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub worker_threads: u16,
}

/// Where this workload's SVID, key and trust bundle are (reloaded when they change).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The dev-PKI directory: `<dir>/agent-b/svid.pem`, `svid.key.pem`, `<dir>/bundle.pem`.
    #[arg(long, env = "AGENT_B_PKI_DIR", default_value = "var/pki")]
    pub pki_dir: PathBuf,
    /// The SVID chain (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_B_SVID")]
    pub svid: Option<PathBuf>,
    /// The SVID's private key (PEM PKCS#8), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_B_SVID_KEY")]
    pub svid_key: Option<PathBuf>,
    /// The trust bundle (PEM), instead of the one in the PKI directory.
    #[arg(long, env = "AGENT_B_BUNDLE")]
    pub bundle: Option<PathBuf>,
}

impl IdentityArgs {
    /// The three files, explicit paths winning over the PKI directory layout.
    pub fn files(&self) -> IdentityFiles {
        let defaults = IdentityFiles::in_pki_dir(&self.pki_dir, workloads::AGENT_B.name());
        IdentityFiles {
            svid: self.svid.clone().unwrap_or(defaults.svid),
            key: self.svid_key.clone().unwrap_or(defaults.key),
            bundle: self.bundle.clone().unwrap_or(defaults.bundle),
        }
    }
}

/// The customer's access tokens: who issues them, for which audience, and where the keys are.
#[derive(Debug, Clone, clap::Args)]
pub struct CustomerTokenArgs {
    /// The external IAM's issuer identifier; a token's `iss` must equal it exactly.
    #[arg(
        long = "external-issuer",
        value_name = "URL",
        env = "AGENT_B_EXTERNAL_ISSUER",
        default_value = "http://localhost:9000"
    )]
    pub issuer: String,
    /// Where the external IAM publishes its JWK Set: https, or http to a loopback address.
    #[arg(
        long = "external-jwks-uri",
        value_name = "URL",
        env = "AGENT_B_EXTERNAL_JWKS_URI",
        default_value = "http://localhost:9000/jwks"
    )]
    pub jwks_uri: Url,
    /// CA certificates (PEM) to trust for an https JWKS URI.
    #[arg(long = "external-ca", value_name = "FILE", env = "AGENT_B_EXTERNAL_CA")]
    pub ca_file: Option<PathBuf>,
    /// Allow a plain-http JWKS URI to a non-loopback host: only for a demo whose programs share
    /// one private network (docker compose). Never in production: whoever can alter that traffic
    /// can replace the keys, and with them every customer's token.
    #[arg(
        long = "external-jwks-allow-plain-http",
        env = "AGENT_B_EXTERNAL_JWKS_ALLOW_PLAIN_HTTP"
    )]
    pub allow_plain_http: bool,
    /// How long the external IAM's JWK Set is cached, in seconds (also the longest a key it
    /// withdrew stays trusted here).
    #[arg(long = "external-jwks-ttl-secs", env = "AGENT_B_EXTERNAL_JWKS_TTL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub jwks_ttl_secs: u64,
    /// This API's resource identifier: the audience a customer token must name.
    #[arg(long = "resource", env = "AGENT_B_RESOURCE", default_value = DEV_RESOURCE)]
    pub resource: String,
}

impl CustomerTokenArgs {
    pub fn jwks_ttl(&self) -> Duration {
        Duration::from_secs(self.jwks_ttl_secs)
    }
}

/// The internal IAM, which issues the service token and the transaction tokens.
#[derive(Debug, Clone, clap::Args)]
pub struct IamArgs {
    /// The IAM's token endpoint, reached over mutual TLS with this workload's SVID.
    #[arg(
        long = "iam-token-url",
        env = "AGENT_B_IAM_TOKEN_URL",
        default_value = "https://localhost:8443/token",
        value_parser = parse_https_url
    )]
    pub token_url: Url,
    /// The IAM's SPIFFE ID, the only server tokens are requested from. Default: the internal IAM
    /// of the trust domain, `spiffe://<trust domain>/ns/internal/sa/internal-iam`.
    #[arg(id = "iam_spiffe_id", long = "iam-spiffe-id", env = "AGENT_B_IAM_SPIFFE_ID", value_parser = parse_spiffe_id)]
    pub spiffe_id: Option<SpiffeId>,
}

impl IamArgs {
    pub fn spiffe_id(&self, trust_domain: &TrustDomain) -> SpiffeId {
        self.spiffe_id
            .clone()
            .unwrap_or_else(|| workloads::INTERNAL_IAM.spiffe_id(trust_domain))
    }
}

/// Agent A, called over gRPC on mutual TLS.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentAArgs {
    /// Agent A's gRPC address, `https://host:port` (the host is only dialled and sent as SNI;
    /// the server is authenticated by its SPIFFE ID).
    #[arg(
        long = "agent-a-url",
        env = "AGENT_B_AGENT_A_URL",
        default_value = "https://localhost:7443",
        value_parser = parse_grpc_uri
    )]
    pub url: Uri,
    /// The only SPIFFE ID accepted as Agent A. Default: Agent A of the trust domain,
    /// `spiffe://<trust domain>/ns/namespace-a/sa/agent-a`.
    #[arg(id = "agent_a_spiffe_id", long = "agent-a-spiffe-id", env = "AGENT_B_AGENT_A_SPIFFE_ID", value_parser = parse_spiffe_id)]
    pub spiffe_id: Option<SpiffeId>,
}

impl AgentAArgs {
    pub fn spiffe_id(&self, trust_domain: &TrustDomain) -> SpiffeId {
        self.spiffe_id
            .clone()
            .unwrap_or_else(|| workloads::AGENT_A.spiffe_id(trust_domain))
    }
}

impl Config {
    /// The SPIFFE IDs allowed to call: the configured list, or the web app of the trust domain.
    pub fn allowed_callers(&self) -> Vec<SpiffeId> {
        if self.allowed_callers.is_empty() {
            vec![workloads::WEB_APP.spiffe_id(&self.trust_domain)]
        } else {
            self.allowed_callers.clone()
        }
    }

    /// Rules no single option can check alone.
    pub fn check(&self) -> Result<(), String> {
        let outside = |id: &SpiffeId| !id.is_member_of(&self.trust_domain);
        if let Some(caller) = self.allowed_callers().iter().find(|id| outside(id)) {
            return Err(format!(
                "the allowed caller {caller} is outside the trust domain {}",
                self.trust_domain
            ));
        }
        for (what, id) in [
            ("the internal IAM", self.iam.spiffe_id(&self.trust_domain)),
            ("Agent A", self.agent_a.spiffe_id(&self.trust_domain)),
        ] {
            if outside(&id) {
                return Err(format!(
                    "{what}'s SPIFFE ID {id} is outside the trust domain {}",
                    self.trust_domain
                ));
            }
        }
        if self.customer.issuer.is_empty() {
            return Err("the external issuer must not be empty".to_owned());
        }
        if self.customer.resource.is_empty() {
            return Err("the resource identifier must not be empty".to_owned());
        }
        Ok(())
    }
}

fn parse_trust_domain(text: &str) -> Result<TrustDomain, String> {
    TrustDomain::new(text).map_err(|error| error.to_string())
}

fn parse_spiffe_id(text: &str) -> Result<SpiffeId, String> {
    SpiffeId::parse(text).map_err(|error| error.to_string())
}

/// `https://host[:port]`, nothing else: the origin the `htu` of every proof is built from.
fn parse_public_url(text: &str) -> Result<Url, String> {
    let url = parse_https_url(text)?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("the public URL is an origin: https://host[:port], without a path".to_owned());
    }
    Ok(url)
}

/// An https URL with a host and no user information or fragment.
fn parse_https_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("not a URL: {error}"))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err("the URL must be https://host[:port]/...".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("the URL must have no user information or fragment".to_owned());
    }
    Ok(url)
}

/// `https://host:port`: a plaintext `http` URL would suggest a plaintext channel, which never
/// exists here.
fn parse_grpc_uri(text: &str) -> Result<Uri, String> {
    let uri: Uri = text
        .parse()
        .map_err(|error| format!("not a URI: {error}"))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none() {
        return Err("Agent A's URL must be https://host[:port]".to_owned());
    }
    if uri
        .path_and_query()
        .is_some_and(|path| path.as_str() != "/")
    {
        return Err("Agent A's URL must have no path or query".to_owned());
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn defaults_name_the_workloads_of_the_trust_domain() {
        let config = Config::try_parse_from(["agent-b"]).unwrap();
        assert!(config.check().is_ok());
        assert_eq!(
            config
                .allowed_callers()
                .iter()
                .map(SpiffeId::as_str)
                .collect::<Vec<_>>(),
            ["spiffe://demo.test/ns/namespace-a/sa/web-app"]
        );
        assert_eq!(
            config.iam.spiffe_id(&config.trust_domain).as_str(),
            "spiffe://demo.test/ns/internal/sa/internal-iam"
        );
        assert_eq!(
            config.agent_a.spiffe_id(&config.trust_domain).as_str(),
            "spiffe://demo.test/ns/namespace-a/sa/agent-a"
        );
        assert_eq!(config.listen.port(), 7445);
        assert_eq!(config.customer.resource, DEV_RESOURCE);
    }

    #[test]
    fn urls_are_https_and_the_public_url_is_an_origin() {
        for (flag, bad) in [
            ("--public-url", "http://localhost:7445"),
            ("--public-url", "https://localhost:7445/v1"),
            ("--public-url", "https://user@localhost:7445"),
            ("--iam-token-url", "http://localhost:8443/token"),
            ("--agent-a-url", "http://localhost:7443"),
            ("--agent-a-url", "https://localhost:7443/x"),
        ] {
            assert!(
                Config::try_parse_from(["agent-b", flag, bad]).is_err(),
                "{flag} {bad}"
            );
        }
        let config =
            Config::try_parse_from(["agent-b", "--public-url", "https://agent-b:7445"]).unwrap();
        assert_eq!(config.public_url.unwrap().as_str(), "https://agent-b:7445/");
    }

    #[test]
    fn callers_and_servers_must_be_in_the_trust_domain() {
        let config = Config::try_parse_from([
            "agent-b",
            "--allowed-callers",
            "spiffe://demo.test/ns/namespace-a/sa/web-app,spiffe://other.test/ns/a/sa/b",
        ])
        .unwrap();
        assert!(
            config
                .check()
                .unwrap_err()
                .contains("outside the trust domain")
        );
        let config = Config::try_parse_from([
            "agent-b",
            "--agent-a-spiffe-id",
            "spiffe://other.test/ns/namespace-a/sa/agent-a",
        ])
        .unwrap();
        assert!(config.check().unwrap_err().contains("Agent A"));
    }
}
