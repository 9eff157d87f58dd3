//! Server-side sessions: the browser holds an opaque id, the database holds everything else.
//!
//! - [`opaque`]: the random ids and CSRF tokens, and their constant-time comparison.
//! - [`cookies`]: the session and pre-login cookies and their attributes.
//! - [`store`]: the `pending_logins` and `sessions` tables.
//! - [`locks`]: one token refresh at a time per session.
//! - [`keys`]: the sessions' DPoP keys, parsed once.

pub mod cookies;
pub mod keys;
pub mod locks;
pub mod opaque;
pub mod store;

pub use cookies::CookiePolicy;
pub use keys::KeyCache;
pub use locks::RefreshLocks;
pub use opaque::{Opaque, RngFailure, constant_time_eq};
pub use store::{PendingLogin, Sensitive, Session, StoreError, StoredKey, Tokens};
