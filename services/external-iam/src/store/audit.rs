//! The audit trail: one row per security-relevant event, with who, from where, and why.

use ring::rand::SystemRandom;
use sqlx::{AnyPool, Row as _};

use super::StoreError;
use crate::auth::opaque::random_id;

/// The kinds of event recorded. The strings are what the `event` column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    MfaFailed,
    LockedOut,
    CodeIssued,
    CodeRedeemed,
    CodeReplayed,
    TokenIssued,
    TokenRefreshed,
    TokenRevoked,
    RefreshReuseDetected,
    ClientAuthFailed,
    Logout,
}

impl AuditKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::MfaFailed => "mfa_failed",
            Self::LockedOut => "locked_out",
            Self::CodeIssued => "code_issued",
            Self::CodeRedeemed => "code_redeemed",
            Self::CodeReplayed => "code_replayed",
            Self::TokenIssued => "token_issued",
            Self::TokenRefreshed => "token_refreshed",
            Self::TokenRevoked => "token_revoked",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::ClientAuthFailed => "client_auth_failed",
            Self::Logout => "logout",
        }
    }
}

/// One event. Never holds a secret: tokens appear by `jti` or family id in `reason`.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// The username, for failures where no user was identified: as typed when it names an
    /// account, a fingerprint (`unknown:<hex>`) when it does not.
    pub username: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

pub async fn record<'e>(
    pool: impl super::Executor<'e>,
    rng: &SystemRandom,
    kind: AuditKind,
    event: &AuditEvent,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, at, event, client_id, user_id, username, ip, reason, \
         request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(random_id(rng)?)
    .bind(now)
    .bind(kind.as_str())
    .bind(event.client_id.clone())
    .bind(event.user_id.clone())
    .bind(event.username.clone())
    .bind(event.ip.clone())
    .bind(event.reason.clone())
    .bind(event.request_id.clone())
    .execute(pool)
    .await?;
    Ok(())
}

/// A recorded event, read back (admin and tests).
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: i64,
    pub event: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
}

pub async fn list(pool: &AnyPool) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT at, event, client_id, user_id, username, ip, reason FROM audit_events ORDER BY at, id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditRow {
                at: row.try_get("at")?,
                event: row.try_get("event")?,
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                username: row.try_get("username")?,
                ip: row.try_get("ip")?,
                reason: row.try_get("reason")?,
            })
        })
        .collect()
}
