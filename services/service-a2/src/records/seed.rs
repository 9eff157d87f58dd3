//! The demo data file (`infra/data/service-a2.toml`): read strictly, then written into the
//! database idempotently.
//!
//! The file is authoritative for the accounts it lists: each start replaces their profile,
//! balance and orders with what the file says, in one transaction, so a half-seeded database is
//! never visible. Accounts the file does not list are left alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use storage::Database;

/// The longest text field accepted from the file: enough for any name or description, and a
/// bound on what ends up in every response.
const MAX_TEXT_LEN: usize = 256;

/// Why the data file cannot be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read the data file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the data file {} is not valid: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("the data file is not valid: {0}")]
    Invalid(String),
    #[error("cannot write the seed data: {0}")]
    Database(#[from] sqlx::Error),
}

/// The whole file. Unknown keys are refused, not ignored: a misspelt field would otherwise
/// silently seed a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    #[serde(rename = "account", default)]
    pub accounts: Vec<AccountSeed>,
}

/// One customer's account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSeed {
    /// The customer's `sub` at the external IAM.
    pub subject: String,
    pub display_name: String,
    pub email: String,
    /// `YYYY-MM-DD`.
    pub member_since: String,
    pub balance: Money,
    #[serde(rename = "order", default)]
    pub orders: Vec<OrderSeed>,
}

/// An amount in the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSeed {
    pub order_id: String,
    /// `YYYY-MM-DD`.
    pub placed_on: String,
    pub description: String,
    pub total_minor: i64,
    pub currency: String,
    pub status: String,
}

impl DataFile {
    /// Reads and validates `path`.
    pub fn read(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: Self = toml::from_str(&text).map_err(|source| SeedError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        file.validate()?;
        Ok(file)
    }

    /// Every rule a record must follow before it may reach a customer.
    pub fn validate(&self) -> Result<(), SeedError> {
        let invalid = |what: String| Err(SeedError::Invalid(what));
        let mut subjects = HashSet::new();
        let mut order_ids = HashSet::new();
        for account in &self.accounts {
            let subject = &account.subject;
            text("subject", subject)?;
            if !subjects.insert(subject.as_str()) {
                return invalid(format!("the account {subject:?} is listed twice"));
            }
            text("display_name", &account.display_name)?;
            text("email", &account.email)?;
            date("member_since", &account.member_since)?;
            currency(&account.balance.currency)?;
            for order in &account.orders {
                text("order_id", &order.order_id)?;
                if !order_ids.insert(order.order_id.as_str()) {
                    return invalid(format!("the order {:?} is listed twice", order.order_id));
                }
                date("placed_on", &order.placed_on)?;
                text("description", &order.description)?;
                text("status", &order.status)?;
                currency(&order.currency)?;
                if order.total_minor < 0 {
                    return invalid(format!(
                        "the order {:?} has a negative total",
                        order.order_id
                    ));
                }
            }
        }
        Ok(())
    }

    /// Writes the file's accounts, in one transaction. Returns how many accounts were written.
    pub async fn seed(&self, db: &Database) -> Result<usize, SeedError> {
        let mut tx = db.pool().begin().await?;
        for account in &self.accounts {
            sqlx::query(
                "INSERT INTO accounts \
                 (subject, display_name, email, member_since, balance_minor, currency) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (subject) DO UPDATE SET display_name = excluded.display_name, \
                 email = excluded.email, member_since = excluded.member_since, \
                 balance_minor = excluded.balance_minor, currency = excluded.currency",
            )
            .bind(&account.subject)
            .bind(&account.display_name)
            .bind(&account.email)
            .bind(&account.member_since)
            .bind(account.balance.amount_minor)
            .bind(&account.balance.currency)
            .execute(&mut *tx)
            .await?;
            // The file's orders replace the account's: an order removed from the file goes.
            sqlx::query("DELETE FROM orders WHERE subject = $1")
                .bind(&account.subject)
                .execute(&mut *tx)
                .await?;
        }
        for account in &self.accounts {
            for order in &account.orders {
                // An upsert, so an order id an unlisted account held moves to the account the
                // file now names instead of failing the whole seed.
                sqlx::query(
                    "INSERT INTO orders \
                     (order_id, subject, placed_on, description, total_minor, currency, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (order_id) DO UPDATE SET subject = excluded.subject, \
                     placed_on = excluded.placed_on, description = excluded.description, \
                     total_minor = excluded.total_minor, currency = excluded.currency, \
                     status = excluded.status",
                )
                .bind(&order.order_id)
                .bind(&account.subject)
                .bind(&order.placed_on)
                .bind(&order.description)
                .bind(order.total_minor)
                .bind(&order.currency)
                .bind(&order.status)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(self.accounts.len())
    }
}

/// 1 to [`MAX_TEXT_LEN`] characters, no control characters.
fn text(field: &str, value: &str) -> Result<(), SeedError> {
    if value.trim().is_empty() || value.chars().count() > MAX_TEXT_LEN {
        return Err(SeedError::Invalid(format!(
            "{field} must be 1 to {MAX_TEXT_LEN} characters, not {value:?}"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(SeedError::Invalid(format!(
            "{field} must not contain control characters: {value:?}"
        )));
    }
    Ok(())
}

/// RFC 3339 `full-date`: `YYYY-MM-DD` with a real month and a day that month can have.
fn date(field: &str, value: &str) -> Result<(), SeedError> {
    let bad = || SeedError::Invalid(format!("{field} must be a YYYY-MM-DD date, not {value:?}"));
    let bytes = value.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
    if !shape {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().map_err(|_| bad());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days {
        return Err(bad());
    }
    Ok(())
}

/// ISO 4217 alphabetic code: three upper-case ASCII letters.
fn currency(value: &str) -> Result<(), SeedError> {
    if value.len() == 3 && value.bytes().all(|byte| byte.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(SeedError::Invalid(format!(
            "a currency must be an ISO 4217 code such as EUR, not {value:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DataFile, SeedError> {
        let file: DataFile = toml::from_str(text).map_err(|source| SeedError::Parse {
            path: PathBuf::from("test.toml"),
            source: Box::new(source),
        })?;
        file.validate()?;
        Ok(file)
    }

    const ACCOUNT: &str = r#"
        [[account]]
        subject = "demo-user-alice"
        display_name = "Alice"
        email = "alice@example.test"
        member_since = "2024-02-29"
        balance = { amount_minor = 100, currency = "EUR" }
        [[account.order]]
        order_id = "A-1"
        placed_on = "2025-01-31"
        description = "Boots"
        total_minor = 0
        currency = "EUR"
        status = "shipped"
    "#;

    #[test]
    fn reads_a_valid_file() {
        let file = parse(ACCOUNT).unwrap();
        assert_eq!(file.accounts.len(), 1);
        assert_eq!(file.accounts[0].orders[0].order_id, "A-1");
    }

    #[test]
    fn the_shipped_file_is_valid_and_has_two_customers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/data/service-a2.toml");
        let file = DataFile::read(&path).unwrap();
        assert_eq!(file.accounts.len(), 2);
        assert_ne!(file.accounts[0].balance, file.accounts[1].balance);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = ACCOUNT.replace("status = ", "colour = \"red\"\n        status = ");
        assert!(matches!(parse(&text), Err(SeedError::Parse { .. })));
    }

    #[test]
    fn bad_values_are_refused_with_their_field() {
        for (from, to, expected) in [
            ("2024-02-29", "2023-02-29", "member_since"),
            ("2025-01-31", "2025-13-01", "placed_on"),
            ("2025-01-31", "2025-1-31", "placed_on"),
            ("currency = \"EUR\" }", "currency = \"eur\" }", "ISO 4217"),
            ("total_minor = 0", "total_minor = -1", "negative"),
            ("\"Boots\"", "\"\"", "description"),
            ("\"Alice\"", "\"Al\\nice\"", "control"),
        ] {
            let text = ACCOUNT.replace(from, to);
            let error = parse(&text).unwrap_err().to_string();
            assert!(error.contains(expected), "{from} -> {to}: {error}");
        }
    }

    #[test]
    fn duplicates_are_refused() {
        let twice = format!("{ACCOUNT}{ACCOUNT}");
        let error = parse(&twice).unwrap_err().to_string();
        assert!(error.contains("listed twice"), "{error}");
        let order_twice = ACCOUNT.replace(
            "[[account.order]]",
            "[[account.order]]\n        order_id = \"A-1\"\n        placed_on = \"2025-01-01\"\n        description = \"x\"\n        total_minor = 1\n        currency = \"EUR\"\n        status = \"x\"\n        [[account.order]]",
        );
        let error = parse(&order_twice).unwrap_err().to_string();
        assert!(error.contains("order \"A-1\" is listed twice"), "{error}");
    }
}
