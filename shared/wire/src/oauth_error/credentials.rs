//! Reading the `Authorization` credentials of a resource request, with each failure mapped to the
//! response RFC 6750 §3.1 prescribes for it.

use super::{BearerChallenge, DpopChallenge, OAuthError};
use crate::auth_scheme::{AuthScheme, Credentials, CredentialsError};

/// What a resource server needs from its challenge to judge credentials.
trait ResourceChallenge {
    fn scheme(&self) -> AuthScheme;
    fn missing_credentials(&self) -> OAuthError;
    fn invalid_request(&self, description: &'static str) -> OAuthError;
}

impl ResourceChallenge for BearerChallenge {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::Bearer
    }
    fn missing_credentials(&self) -> OAuthError {
        BearerChallenge::missing_credentials(self)
    }
    fn invalid_request(&self, description: &'static str) -> OAuthError {
        BearerChallenge::invalid_request(self, description)
    }
}

impl ResourceChallenge for DpopChallenge {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::DPoP
    }
    fn missing_credentials(&self) -> OAuthError {
        DpopChallenge::missing_credentials(self)
    }
    fn invalid_request(&self, description: &'static str) -> OAuthError {
        DpopChallenge::invalid_request(self, description)
    }
}

impl BearerChallenge {
    /// The Bearer credentials among the request's `Authorization` values (HTTP header values or
    /// gRPC metadata values, as bytes). See [`DpopChallenge::read_credentials`] for the rules.
    pub fn read_credentials<'a>(
        &self,
        values: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Credentials<'a>, OAuthError> {
        read(self, values)
    }
}

impl DpopChallenge {
    /// The DPoP credentials among the request's `Authorization` values (HTTP header values or
    /// gRPC metadata values, as bytes):
    ///
    /// - none, an empty value or another scheme (including `Bearer` at a DPoP-only server): the
    ///   challenge alone, without an error code (RFC 6750 §3.1);
    /// - more than one value, or a malformed one: `invalid_request` (RFC 6750 §3.1, "uses more
    ///   than one method" and "otherwise malformed").
    pub fn read_credentials<'a>(
        &self,
        values: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Credentials<'a>, OAuthError> {
        read(self, values)
    }
}

fn read<'a>(
    challenge: &impl ResourceChallenge,
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Credentials<'a>, OAuthError> {
    let mut values = values.into_iter();
    let Some(value) = values.next() else {
        return Err(challenge.missing_credentials());
    };
    if values.next().is_some() {
        return Err(challenge.invalid_request("more than one Authorization value"));
    }
    let value = std::str::from_utf8(value)
        .map_err(|_| challenge.invalid_request("malformed Authorization value"))?;
    match Credentials::parse(value) {
        Ok(credentials) if credentials.scheme() == challenge.scheme() => Ok(credentials),
        Ok(_) | Err(CredentialsError::Missing | CredentialsError::UnsupportedScheme) => {
            Err(challenge.missing_credentials())
        }
        Err(CredentialsError::Malformed) => {
            Err(challenge.invalid_request("malformed Authorization value"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code::ErrorCode;
    use http::StatusCode;

    fn dpop() -> DpopChallenge {
        DpopChallenge::new("agent-b", &["ES256"]).unwrap()
    }

    fn bearer() -> BearerChallenge {
        BearerChallenge::new("agent-a").unwrap()
    }

    #[test]
    fn reads_the_expected_scheme() {
        let credentials = dpop().read_credentials([&b"DPoP abc.def.ghi"[..]]).unwrap();
        assert_eq!(credentials.token(), "abc.def.ghi");
        let credentials = bearer()
            .read_credentials([&b"bearer abc.def.ghi"[..]])
            .unwrap();
        assert_eq!(credentials.scheme(), AuthScheme::Bearer);
    }

    #[test]
    fn no_credentials_get_the_challenge_only() {
        let no_values: [&[u8]; 0] = [];
        for values in [&no_values[..], &[&b""[..]], &[&b"Basic dXNlcjpwYXNz"[..]]] {
            let error = dpop().read_credentials(values.iter().copied()).unwrap_err();
            assert_eq!(error, dpop().missing_credentials());
        }
    }

    #[test]
    fn the_other_scheme_gets_the_challenge_only() {
        let error = dpop().read_credentials([&b"Bearer abc"[..]]).unwrap_err();
        assert_eq!(error, dpop().missing_credentials());
        let error = bearer().read_credentials([&b"DPoP abc"[..]]).unwrap_err();
        assert_eq!(error, bearer().missing_credentials());
    }

    #[test]
    fn repeated_values_are_invalid_requests() {
        let error = bearer()
            .read_credentials([&b"Bearer a"[..], &b"Bearer b"[..]])
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error.code(), Some(ErrorCode::InvalidRequest));
        assert_eq!(
            error.description().map(|d| d.as_str()),
            Some("more than one Authorization value")
        );
    }

    #[test]
    fn malformed_values_are_invalid_requests() {
        for value in [&b"Bearer a b"[..], &b"Bearer \xff\xfe"[..], &b"Bearer "[..]] {
            let error = bearer().read_credentials([value]).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST);
            assert_eq!(error.code(), Some(ErrorCode::InvalidRequest));
            assert_eq!(
                error.description().map(|d| d.as_str()),
                Some("malformed Authorization value")
            );
        }
    }
}
