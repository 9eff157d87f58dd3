-- The customers' records, keyed by the customer's `sub` at the external IAM (the `sub` of the
-- transaction token). Portable SQL: the same file runs on SQLite and PostgreSQL. Amounts are
-- integers in the currency's minor unit; dates are RFC 3339 `full-date` text.
CREATE TABLE accounts (
    subject TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    member_since TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    currency TEXT NOT NULL
);

CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL REFERENCES accounts (subject) ON DELETE CASCADE,
    placed_on TEXT NOT NULL,
    description TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL
);

-- Every read of orders is "this customer's, newest first".
CREATE INDEX orders_by_subject ON orders (subject, placed_on);
