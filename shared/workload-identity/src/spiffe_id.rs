//! SPIFFE IDs and trust domain names that are valid by construction (SPIFFE-ID.md §2).
//!
//! Only the canonical form is accepted: scheme `spiffe` and trust domain in lowercase, exactly as
//! §2.1 requires of the host. §2.4 calls scheme and trust domain case-insensitive, but accepting
//! `SPIFFE://Demo.Test/x` and normalising it would make string equality (in a registration
//! table, a token's `sub`, an audit log) differ from identity equality; an issuer that produces
//! uppercase is misconfigured, and refusing it is the safe reading.
//!
//! The `spiffe` crate's `SpiffeId` is not used underneath for that reason: it accepts and
//! lowercases uppercase schemes and trust domains, and it reports a port, userinfo, query or
//! percent-encoding only as a generic character error.

use std::fmt;
use std::str::FromStr;

const SCHEME_PREFIX: &str = "spiffe://";

/// Longest SPIFFE ID accepted, in bytes (§2.3: implementations must support 2048 bytes and
/// should not generate more, so anything longer could not interoperate anyway).
pub const MAX_SPIFFE_ID_LEN: usize = 2048;

/// Longest trust domain name accepted, in bytes (§2.3, after RFC 3986's limit for a host).
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;

/// Why a string is not a SPIFFE ID or trust domain name; one variant per rule of the spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpiffeIdError {
    #[error("a SPIFFE ID cannot be empty")]
    Empty,
    #[error("a SPIFFE ID is at most {MAX_SPIFFE_ID_LEN} bytes; this one has {len}")]
    TooLong { len: usize },
    #[error("a SPIFFE ID starts with `spiffe://`, in lowercase")]
    WrongScheme,
    #[error("the trust domain name is missing")]
    MissingTrustDomain,
    #[error("a trust domain name is at most {MAX_TRUST_DOMAIN_LEN} bytes; this one has {len}")]
    TrustDomainTooLong { len: usize },
    #[error(
        "a trust domain name contains only lowercase letters, digits, `.`, `-` and `_`; \
         found {found:?}"
    )]
    BadTrustDomainChar { found: char },
    #[error("a SPIFFE ID has no userinfo (`user@`) in its authority")]
    HasUserInfo,
    #[error("a SPIFFE ID has no port (nor a `:`) in its authority")]
    HasPort,
    #[error("a SPIFFE ID contains no percent-encoded characters")]
    PercentEncoded,
    #[error("a SPIFFE ID has no query component")]
    HasQuery,
    #[error("a SPIFFE ID has no fragment component")]
    HasFragment,
    #[error("a SPIFFE ID path has no empty segments")]
    EmptySegment,
    #[error("a SPIFFE ID path has no `.` or `..` segments")]
    DotSegment,
    #[error("a SPIFFE ID path does not end with `/`")]
    TrailingSlash,
    #[error(
        "a SPIFFE ID path segment contains only letters, digits, `.`, `-` and `_`; found {found:?}"
    )]
    BadPathChar { found: char },
}

/// A trust domain name: the authority of a SPIFFE ID, e.g. `demo.test`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// Parses a bare trust domain name (not a `spiffe://` URI).
    pub fn new(name: &str) -> Result<Self, SpiffeIdError> {
        check_trust_domain(name)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The trust domain's own ID, `spiffe://<name>`, which only a signing certificate may carry
    /// (X509-SVID.md §3.2).
    pub fn spiffe_id(&self) -> SpiffeId {
        SpiffeId {
            uri: format!("{SCHEME_PREFIX}{}", self.0),
            trust_domain: self.clone(),
        }
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TrustDomain {
    type Err = SpiffeIdError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::new(name)
    }
}

impl AsRef<str> for TrustDomain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A SPIFFE ID, e.g. `spiffe://demo.test/ns/namespace-b/sa/agent-b`.
///
/// Equality is byte equality of the canonical form, which is the only form this type holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpiffeId {
    uri: String,
    trust_domain: TrustDomain,
}

impl SpiffeId {
    /// Parses and validates a SPIFFE ID against every rule of SPIFFE-ID.md §2.
    pub fn parse(id: &str) -> Result<Self, SpiffeIdError> {
        if id.is_empty() {
            return Err(SpiffeIdError::Empty);
        }
        if id.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::TooLong { len: id.len() });
        }
        let rest = id
            .strip_prefix(SCHEME_PREFIX)
            .ok_or(SpiffeIdError::WrongScheme)?;
        // The authority ends at the first `/`, `?` or `#` (RFC 3986 §3.2).
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        check_trust_domain(authority)?;
        if let Some(at) = tail.find(['?', '#']) {
            return Err(if tail[at..].starts_with('?') {
                SpiffeIdError::HasQuery
            } else {
                SpiffeIdError::HasFragment
            });
        }
        check_path(tail)?;
        Ok(Self {
            uri: id.to_owned(),
            trust_domain: TrustDomain(authority.to_owned()),
        })
    }

    /// Builds `spiffe://<trust domain>/<segment>/<segment>/...`, validating each segment.
    pub fn from_segments(
        trust_domain: &TrustDomain,
        segments: &[&str],
    ) -> Result<Self, SpiffeIdError> {
        let mut uri = format!("{SCHEME_PREFIX}{trust_domain}");
        for segment in segments {
            check_segment(segment)?;
            uri.push('/');
            uri.push_str(segment);
        }
        if uri.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::TooLong { len: uri.len() });
        }
        Ok(Self {
            uri,
            trust_domain: trust_domain.clone(),
        })
    }

    /// This system's form for a Kubernetes-style workload: `spiffe://<td>/ns/<namespace>/sa/<name>`.
    pub fn for_service_account(
        trust_domain: &TrustDomain,
        namespace: &str,
        service_account: &str,
    ) -> Result<Self, SpiffeIdError> {
        Self::from_segments(trust_domain, &["ns", namespace, "sa", service_account])
    }

    /// For segments already proven valid (the compile-time-checked well-known workloads), so that
    /// building their IDs cannot fail. The length cannot exceed the limit: a trust domain is at
    /// most 255 bytes and those segments are short.
    pub(crate) fn service_account_unchecked(
        trust_domain: &TrustDomain,
        namespace: &str,
        service_account: &str,
    ) -> Self {
        Self {
            uri: format!("{SCHEME_PREFIX}{trust_domain}/ns/{namespace}/sa/{service_account}"),
            trust_domain: trust_domain.clone(),
        }
    }

    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The path, empty or starting with `/` (e.g. `/ns/namespace-a/sa/agent-a`).
    pub fn path(&self) -> &str {
        self.uri
            .get(SCHEME_PREFIX.len() + self.trust_domain.0.len()..)
            .unwrap_or_default()
    }

    /// The full URI.
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The namespace, if the path is exactly `/ns/<namespace>/sa/<service account>`.
    pub fn namespace(&self) -> Option<&str> {
        self.service_account_path().map(|(namespace, _)| namespace)
    }

    /// The service account, if the path is exactly `/ns/<namespace>/sa/<service account>`.
    pub fn service_account(&self) -> Option<&str> {
        self.service_account_path().map(|(_, name)| name)
    }

    pub fn is_member_of(&self, trust_domain: &TrustDomain) -> bool {
        &self.trust_domain == trust_domain
    }

    fn service_account_path(&self) -> Option<(&str, &str)> {
        let mut segments = self.path().strip_prefix('/')?.split('/');
        match (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) {
            (Some("ns"), Some(namespace), Some("sa"), Some(name), None) => Some((namespace, name)),
            _ => None,
        }
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl FromStr for SpiffeId {
    type Err = SpiffeIdError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Self::parse(id)
    }
}

impl TryFrom<&str> for SpiffeId {
    type Error = SpiffeIdError;

    fn try_from(id: &str) -> Result<Self, Self::Error> {
        Self::parse(id)
    }
}

impl AsRef<str> for SpiffeId {
    fn as_ref(&self) -> &str {
        &self.uri
    }
}

/// `[a-zA-Z0-9.-_]`, the characters of a path segment (§2.2). `const` so that the well-known
/// workloads are checked at compile time.
pub(crate) const fn is_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_')
}

fn check_trust_domain(name: &str) -> Result<(), SpiffeIdError> {
    if name.is_empty() {
        return Err(SpiffeIdError::MissingTrustDomain);
    }
    // Checked before the characters so that `user:pass@host` is reported as userinfo, not as
    // a port.
    if name.contains('@') {
        return Err(SpiffeIdError::HasUserInfo);
    }
    if name.len() > MAX_TRUST_DOMAIN_LEN {
        return Err(SpiffeIdError::TrustDomainTooLong { len: name.len() });
    }
    for found in name.chars() {
        match found {
            'a'..='z' | '0'..='9' | '.' | '-' | '_' => {}
            ':' => return Err(SpiffeIdError::HasPort),
            '%' => return Err(SpiffeIdError::PercentEncoded),
            _ => return Err(SpiffeIdError::BadTrustDomainChar { found }),
        }
    }
    Ok(())
}

/// `path` is empty or starts with `/`: the authority split guarantees it.
fn check_path(path: &str) -> Result<(), SpiffeIdError> {
    let Some(segments) = path.strip_prefix('/') else {
        return Ok(());
    };
    let mut segments = segments.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segment.is_empty() && segments.peek().is_none() {
            return Err(SpiffeIdError::TrailingSlash);
        }
        check_segment(segment)?;
    }
    Ok(())
}

fn check_segment(segment: &str) -> Result<(), SpiffeIdError> {
    if segment.is_empty() {
        return Err(SpiffeIdError::EmptySegment);
    }
    if segment == "." || segment == ".." {
        return Err(SpiffeIdError::DotSegment);
    }
    for found in segment.chars() {
        if found == '%' {
            return Err(SpiffeIdError::PercentEncoded);
        }
        if !u8::try_from(found).is_ok_and(is_path_byte) {
            return Err(SpiffeIdError::BadPathChar { found });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
