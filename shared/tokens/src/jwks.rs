//! JWK Sets in motion: publishing them (issuers) and fetching and caching them (validators).
//!
//! The document format itself ([`crate::Jwks`]) lives in [`crate::jwk`].

mod cache;
mod fetch;
mod publish;
mod source;

pub use cache::{CacheConfigError, JwksCache, JwksCacheBuilder};
pub use fetch::{FetchError, FetchedJwks, HttpFetcher, JwksFetcher};
pub use publish::{KeySet, KeySetError};
pub use source::{KeyLookupError, KeySource};
