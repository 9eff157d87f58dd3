//! The chatbot's answer to an account question, written from the records Agent A returned.

use std::fmt::Write as _;

use wire::chat::{AccountData, Money, Records};

/// The answer's text for `data`.
pub fn account_answer(data: &AccountData) -> String {
    match &data.records {
        Records::Balance(balance) => format!("Your balance is {}.", money(balance)),
        Records::Orders { orders } if orders.is_empty() => "You have no recent orders.".to_owned(),
        Records::Orders { orders } => {
            let mut text = match orders.len() {
                1 => "You have 1 recent order:".to_owned(),
                n => format!("You have {n} recent orders:"),
            };
            for order in orders {
                let _ = write!(
                    text,
                    "\n- {} ({}): {}, {}, {}",
                    order.order_id,
                    order.placed_on,
                    order.description,
                    money(&order.total),
                    order.status
                );
            }
            text
        }
        Records::Profile(profile) => format!(
            "Your profile: {}, {}, a member since {}.",
            profile.display_name, profile.email, profile.member_since
        ),
    }
}

/// `1,842.50 EUR`: the minor unit placed by the currency's ISO 4217 exponent, thousands grouped.
fn money(money: &Money) -> String {
    let exponent = minor_unit_exponent(&money.currency);
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let amount = money.amount_minor.unsigned_abs();
    let divisor = 10u64.pow(exponent);
    let whole = group_thousands(amount / divisor);
    let text = if exponent == 0 {
        whole
    } else {
        let fraction = amount % divisor;
        format!("{whole}.{fraction:0width$}", width = exponent as usize)
    };
    format!("{sign}{text} {}", money.currency)
}

/// ISO 4217 minor-unit exponents of the currencies that differ from the usual two decimals.
fn minor_unit_exponent(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::chat::{Order, Profile};

    fn eur(amount_minor: i64) -> Money {
        Money {
            amount_minor,
            currency: "EUR".into(),
        }
    }

    fn data(records: Records) -> AccountData {
        AccountData {
            subject: "demo-user-alice".into(),
            records,
        }
    }

    #[test]
    fn amounts_are_exact_decimals() {
        assert_eq!(money(&eur(184_250)), "1,842.50 EUR");
        assert_eq!(money(&eur(5)), "0.05 EUR");
        assert_eq!(money(&eur(-123_456_789)), "-1,234,567.89 EUR");
        assert_eq!(
            money(&Money {
                amount_minor: 1_500,
                currency: "JPY".into()
            }),
            "1,500 JPY"
        );
        assert_eq!(
            money(&Money {
                amount_minor: 1_500,
                currency: "KWD".into()
            }),
            "1.500 KWD"
        );
        assert_eq!(money(&eur(i64::MIN)), "-92,233,720,368,547,758.08 EUR");
    }

    #[test]
    fn each_kind_of_record_reads_as_a_sentence() {
        assert_eq!(
            account_answer(&data(Records::Balance(eur(3_710)))),
            "Your balance is 37.10 EUR."
        );
        let orders = Records::Orders {
            orders: vec![Order {
                order_id: "A-1001".into(),
                placed_on: "2025-09-14".into(),
                description: "Headphones".into(),
                total: eur(24_900),
                status: "delivered".into(),
            }],
        };
        assert_eq!(
            account_answer(&data(orders)),
            "You have 1 recent order:\n- A-1001 (2025-09-14): Headphones, 249.00 EUR, delivered"
        );
        assert_eq!(
            account_answer(&data(Records::Orders { orders: vec![] })),
            "You have no recent orders."
        );
        let profile = Records::Profile(Profile {
            display_name: "Alice Martin".into(),
            email: "alice@example.test".into(),
            member_since: "2019-04-23".into(),
        });
        assert_eq!(
            account_answer(&data(profile)),
            "Your profile: Alice Martin, alice@example.test, a member since 2019-04-23."
        );
    }
}
