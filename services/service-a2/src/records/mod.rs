//! The customers' records: reading one customer's records for one intent.
//!
//! Every query is keyed by the customer's `sub`, and the only `sub` this module is ever given is
//! the one from a verified transaction token (see [`crate::user_context`]). There is no query
//! that takes anything else.

pub mod seed;

use sqlx::Row as _;
use sqlx::any::AnyRow;
use storage::Database;
use wire::Intent;
use wire::grpc::account::v1::{AccountData, Balance, Order, Orders, Profile, account_data};

/// At most this many orders go into one answer, newest first: a bound on the response whatever
/// the database holds.
pub const MAX_ORDERS: i64 = 50;

/// Why no records were returned.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// No account is held for this customer.
    #[error("no account is held for this customer")]
    NoAccount,
    /// The request named no intent this service answers (the caller checks first).
    #[error("the intent {0:?} has no records")]
    Unanswerable(Intent),
    #[error("the records could not be read: {0}")]
    Database(#[from] sqlx::Error),
}

/// Read access to the records. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Records {
    db: Database,
}

impl Records {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The records of `subject` that answer `intent`.
    pub async fn for_intent(
        &self,
        subject: &str,
        intent: Intent,
    ) -> Result<AccountData, RecordsError> {
        let records = match intent {
            Intent::Balance => account_data::Records::Balance(self.balance(subject).await?),
            Intent::Orders => account_data::Records::Orders(self.orders(subject).await?),
            Intent::Profile => account_data::Records::Profile(self.profile(subject).await?),
            Intent::Unspecified => return Err(RecordsError::Unanswerable(intent)),
        };
        Ok(AccountData {
            subject: subject.to_owned(),
            records: Some(records),
        })
    }

    async fn balance(&self, subject: &str) -> Result<Balance, RecordsError> {
        let row = sqlx::query("SELECT balance_minor, currency FROM accounts WHERE subject = $1")
            .bind(subject)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(RecordsError::NoAccount)?;
        Ok(Balance {
            amount_minor: row.try_get("balance_minor")?,
            currency: row.try_get("currency")?,
        })
    }

    async fn profile(&self, subject: &str) -> Result<Profile, RecordsError> {
        let row = sqlx::query(
            "SELECT display_name, email, member_since FROM accounts WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(RecordsError::NoAccount)?;
        Ok(Profile {
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
            member_since: row.try_get("member_since")?,
        })
    }

    async fn orders(&self, subject: &str) -> Result<Orders, RecordsError> {
        let rows = sqlx::query(
            "SELECT order_id, placed_on, description, total_minor, currency, status \
             FROM orders WHERE subject = $1 ORDER BY placed_on DESC, order_id LIMIT $2",
        )
        .bind(subject)
        .bind(MAX_ORDERS)
        .fetch_all(self.db.pool())
        .await?;
        // No orders and no account are different answers; only the rare empty case pays for
        // the second query.
        if rows.is_empty() && !self.has_account(subject).await? {
            return Err(RecordsError::NoAccount);
        }
        let orders = rows.iter().map(order).collect::<Result<_, _>>()?;
        Ok(Orders { orders })
    }

    async fn has_account(&self, subject: &str) -> Result<bool, RecordsError> {
        Ok(sqlx::query("SELECT 1 FROM accounts WHERE subject = $1")
            .bind(subject)
            .fetch_optional(self.db.pool())
            .await?
            .is_some())
    }
}

fn order(row: &AnyRow) -> Result<Order, sqlx::Error> {
    Ok(Order {
        order_id: row.try_get("order_id")?,
        placed_on: row.try_get("placed_on")?,
        description: row.try_get("description")?,
        total_minor: row.try_get("total_minor")?,
        currency: row.try_get("currency")?,
        status: row.try_get("status")?,
    })
}
