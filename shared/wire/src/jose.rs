//! JOSE header parameters and values (RFC 7515 §4.1, RFC 7518 §3.1).
//!
//! Validators compare `typ` exactly, so one token kind cannot be replayed as another (RFC 8725
//! §3.11): an access token is not a transaction token, an ID token is not an access token.

/// Header parameter: signature algorithm (RFC 7515 §4.1.1).
pub const ALG: &str = "alg";
/// Header parameter: key id in the issuer's JWKS (RFC 7515 §4.1.4).
pub const KID: &str = "kid";
/// Header parameter: explicit token type (RFC 7515 §4.1.9).
pub const TYP: &str = "typ";
/// Header parameter: public key embedded in a DPoP proof (RFC 7515 §4.1.3, RFC 9449 §4.2).
pub const JWK: &str = "jwk";

/// `typ` of JWT access tokens (RFC 9068 §2.1).
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";
/// `typ` of transaction tokens (draft-ietf-oauth-transaction-tokens, "JWT Header").
pub const TYP_TXN_TOKEN: &str = "txntoken+jwt";
/// `typ` of DPoP proofs (RFC 9449 §4.2).
pub const TYP_DPOP: &str = "dpop+jwt";
/// `typ` of ID tokens and other plain JWTs (RFC 7519 §5.1). OpenID Connect does not define an
/// explicit type for ID tokens, which is why the other kinds carry one.
pub const TYP_JWT: &str = "JWT";

/// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4): the default signing algorithm.
pub const ALG_ES256: &str = "ES256";
/// Edwards-curve signatures with Ed25519 (RFC 8037 §3.1): the allowed alternative.
pub const ALG_EDDSA: &str = "EdDSA";
