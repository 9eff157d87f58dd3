//! Database connections (SQLite by default, PostgreSQL in production) and signing keys kept in
//! the database.
//!
//! Both identity providers of the system keep their signing keys in their own database and set up
//! their connections the same way; this crate is that shared part.
//!
//! - [`Database`]: one [`sqlx::AnyPool`] for either backend, from a URL. SQLite files are created
//!   on first use and every SQLite connection gets the same pragmas (WAL, foreign keys, a busy
//!   timeout). Migrations are the program's own, written once in SQL both backends accept.
//! - [`signing_keys`]: the `signing_keys` table, key rotation with a publication delay, and
//!   [`signing_keys::LiveKeys`], the running program's view of its keys that signs and publishes
//!   without a database round trip.

mod database;
mod error;
pub mod signing_keys;
pub mod testing;

pub use database::{Backend, Database};
pub use error::StorageError;
