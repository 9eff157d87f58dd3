//! The customer, read only from the verified transaction token in `x-user-context`.
//!
//! The token is the internal IAM's (draft-ietf-oauth-transaction-tokens): `typ: txntoken+jwt`,
//! signed ES256 with a key from the IAM's JWK Set, `iss` the IAM's issuer, `aud` the trust
//! domain name (`demo.test`, as the IAM writes it), unexpired. Its `sub` is the customer; it is
//! the only way a customer is named to this service.
//!
//! `req_wl` is not compared with the peer here: it names the workload that asked the IAM for the
//! token (Agent B), while the peer is Agent A, which forwards it unchanged and has already made
//! that check. Who may call is the allow-list's decision ([`crate::peer`]).
//!
//! `txn` (the request id the IAM saw) is logged but not compared with this call's `x-request-id`:
//! the caller chooses that header, so the comparison would prove nothing, and the token's short
//! lifetime is what limits a replay.

pub use mesh::user_context::{
    MAX_LIFETIME, UserContextError, UserContextValidator, VerifiedCustomer,
};
