//! JWT claim names and the members of the `cnf` claim, each with the document that defines it.

// Registered claims (RFC 7519 §4.1).
/// Issuer (RFC 7519 §4.1.1).
pub const ISS: &str = "iss";
/// Subject (RFC 7519 §4.1.2): the customer, or a workload's SPIFFE ID in a service token.
pub const SUB: &str = "sub";
/// Audience (RFC 7519 §4.1.3).
pub const AUD: &str = "aud";
/// Expiration time (RFC 7519 §4.1.4).
pub const EXP: &str = "exp";
/// Not before (RFC 7519 §4.1.5).
pub const NBF: &str = "nbf";
/// Issued at (RFC 7519 §4.1.6); also the creation time of a DPoP proof (RFC 9449 §4.2).
pub const IAT: &str = "iat";
/// JWT ID (RFC 7519 §4.1.7): how tokens appear in logs, never by value.
pub const JTI: &str = "jti";

// OAuth claims in access tokens (RFC 9068 §2.2, RFC 8693 §4).
/// Space-delimited scopes granted (RFC 8693 §4.2, RFC 9068 §2.2.3).
pub const SCOPE: &str = "scope";
/// The client the token was issued to (RFC 8693 §4.3, RFC 9068 §2.2).
pub const CLIENT_ID: &str = "client_id";
/// Confirmation: the key or certificate the token is bound to (RFC 7800 §3.1).
pub const CNF: &str = "cnf";
/// `cnf` member: JWK SHA-256 thumbprint of the DPoP key (RFC 9449 §6.1).
pub const CNF_JKT: &str = "jkt";
/// `cnf` member: SHA-256 thumbprint of the client certificate (RFC 8705 §3.1).
pub const CNF_X5T_S256: &str = "x5t#S256";

// ID token claims (OpenID Connect Core 1.0 §2).
/// Binds the ID token to the authentication request (OpenID Connect Core 1.0 §2).
pub const NONCE: &str = "nonce";
/// Time of the customer's authentication (OpenID Connect Core 1.0 §2).
pub const AUTH_TIME: &str = "auth_time";
/// Authentication methods used, e.g. `pwd`, `otp` (OpenID Connect Core 1.0 §2; values RFC 8176).
pub const AMR: &str = "amr";
/// Authorized party (OpenID Connect Core 1.0 §2).
pub const AZP: &str = "azp";
/// Hash of the access token issued alongside the ID token (OpenID Connect Core 1.0 §3.1.3.6).
pub const AT_HASH: &str = "at_hash";
/// Session id at the issuer (OpenID Connect Front-Channel Logout 1.0 §3).
pub const SID: &str = "sid";
/// Shorthand name by which the customer wishes to be referred to (OpenID Connect Core 1.0 §5.1).
pub const PREFERRED_USERNAME: &str = "preferred_username";
/// Full name (OpenID Connect Core 1.0 §5.1).
pub const NAME: &str = "name";
/// E-mail address (OpenID Connect Core 1.0 §5.1).
pub const EMAIL: &str = "email";

// Transaction token claims (draft-ietf-oauth-transaction-tokens, "Txn-Token Format").
/// Transaction identifier (RFC 8417 §2.2, as used by transaction tokens): the request id.
pub const TXN: &str = "txn";
/// Transaction context: immutable facts about the original request (the customer's scopes and
/// issuer in this system).
pub const TCTX: &str = "tctx";
/// Requester context: facts about the request as it arrived (e.g. the caller's address).
pub const RCTX: &str = "rctx";
/// The workload that requested the transaction token: Agent B's SPIFFE ID in this system.
pub const REQ_WL: &str = "req_wl";

// DPoP proof claims (RFC 9449 §4.2).
/// HTTP method of the request the proof is for (RFC 9449 §4.2).
pub const HTM: &str = "htm";
/// HTTP target URI of the request, without query and fragment (RFC 9449 §4.2).
pub const HTU: &str = "htu";
/// Hash of the access token the proof accompanies (RFC 9449 §4.2).
pub const ATH: &str = "ath";
