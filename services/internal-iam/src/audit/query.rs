//! Reading the audit trail back.

use sqlx::Row as _;
use sqlx::any::AnyRow;
use storage::Database;

use super::{AuditEvent, Outcome};

/// Which rows to read. Every filter is optional; rows come oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only rows recorded at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    pub spiffe_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub grant_type: Option<String>,
    pub request_id: Option<String>,
    /// At most this many rows (the newest ones, still returned oldest first); all if `None`.
    pub limit: Option<u32>,
}

const COLUMNS: &str = "id, recorded_at, outcome, grant_type, request_id, spiffe_id, peer_addr, \
                       audience, scope, jti, subject, subject_jti, error, reason";

/// The rows matching `query`.
pub async fn list(db: &Database, query: &AuditQuery) -> Result<Vec<AuditEvent>, sqlx::Error> {
    let mut conditions = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let placeholder = |conditions: &mut Vec<String>, column: &str| {
        conditions.push(format!("{column} = ${}", conditions.len() + 1));
    };
    if query.since.is_some() {
        conditions.push(format!("recorded_at >= ${}", conditions.len() + 1));
    }
    for (column, value) in [
        ("spiffe_id", query.spiffe_id.clone()),
        ("outcome", query.outcome.map(|o| o.as_str().to_owned())),
        ("grant_type", query.grant_type.clone()),
        ("request_id", query.request_id.clone()),
    ] {
        if let Some(value) = value {
            placeholder(&mut conditions, column);
            texts.push(value);
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    // The newest `limit` rows, then back into recording order.
    let limit = query
        .limit
        .map_or(String::new(), |limit| format!(" LIMIT {limit}"));
    let sql = format!(
        "SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM audit_events{filter} \
         ORDER BY id DESC{limit}) AS newest ORDER BY id"
    );
    let mut statement = sqlx::query(&sql);
    if let Some(since) = query.since {
        statement = statement.bind(since);
    }
    for text in texts {
        statement = statement.bind(text);
    }
    statement
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(read)
        .collect()
}

fn read(row: &AnyRow) -> Result<AuditEvent, sqlx::Error> {
    Ok(AuditEvent {
        id: row.try_get("id")?,
        recorded_at: row.try_get("recorded_at")?,
        outcome: row.try_get("outcome")?,
        grant_type: row.try_get("grant_type")?,
        request_id: row.try_get("request_id")?,
        spiffe_id: row.try_get("spiffe_id")?,
        peer_addr: row.try_get("peer_addr")?,
        audience: row.try_get("audience")?,
        scope: row.try_get("scope")?,
        jti: row.try_get("jti")?,
        subject: row.try_get("subject")?,
        subject_jti: row.try_get("subject_jti")?,
        error: row.try_get("error")?,
        reason: row.try_get("reason")?,
    })
}
