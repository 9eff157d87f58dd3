//! Service A2's demo records as shipped (`infra/data/service-a2.toml`, which the kit seeds), so
//! the tests and the load run know what an answer must hold without repeating the data.

use std::path::Path;

use serde::Deserialize;

/// Every demo account.
#[derive(Debug, Deserialize)]
pub struct DemoRecords {
    account: Vec<Account>,
}

/// One customer's records.
#[derive(Debug, Deserialize)]
pub struct Account {
    pub subject: String,
    pub display_name: String,
    pub email: String,
    pub balance: Money,
    #[serde(default)]
    pub order: Vec<Order>,
}

/// An amount in the currency's minor unit.
#[derive(Debug, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// One recent order.
#[derive(Debug, Deserialize)]
pub struct Order {
    pub order_id: String,
}

impl DemoRecords {
    /// The file the kit seeds Service A2 with.
    pub fn shipped() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/data/service-a2.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        toml::from_str(&text).unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
    }

    /// The account of a demo user, found by the `sub` the external IAM gives them.
    pub fn account_of(&self, user: &str) -> &Account {
        let subject = super::demo_user(user).id;
        self.account
            .iter()
            .find(|account| account.subject == subject)
            .unwrap_or_else(|| panic!("no record for {user} ({subject})"))
    }
}

impl Account {
    /// The balance as the chat shows it, without thousands separators: `1842.50 EUR`.
    pub fn balance(&self) -> String {
        let Money {
            amount_minor,
            currency,
        } = &self.balance;
        format!(
            "{}.{:02} {currency}",
            amount_minor / 100,
            amount_minor % 100
        )
    }

    /// Values that appear in no other customer's answer.
    pub fn identifying_values(&self) -> Vec<String> {
        let mut values = vec![
            self.balance(),
            self.display_name.clone(),
            self.email.clone(),
        ];
        values.extend(self.order.iter().map(|order| order.order_id.clone()));
        values
    }
}
