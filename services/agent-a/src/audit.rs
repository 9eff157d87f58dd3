//! The audit trail of step 17: one row per call, allowed or refused.
//!
//! A row says who called (the peer's SPIFFE ID from the mTLS handshake), with which tokens (the
//! service token's and transaction token's `jti`, and the transaction id `txn`), for which
//! customer (`sub`), in which request, what was decided and why. Tokens themselves are never
//! recorded. Token ids and the customer are recorded only once the token carrying them verified:
//! until then they are whatever the sender wrote.
//!
//! Handlers queue rows; one background task writes whatever has queued as one multi-row
//! `INSERT` per batch (up to [`ROWS_PER_STATEMENT`] rows each), so the request path never waits
//! for the disk (SQLite commits fsync) and a batch costs one database round trip, not one per
//! row. While a batch is written the next one gathers: under load rows go out many at a time,
//! at rest each goes out at once, with no timer adding latency. The trail stays complete: a full
//! queue makes handlers wait rather than drop rows, and rows that cannot be written after a few
//! attempts are logged in full at ERROR, so the record survives in the logs. A crash of the
//! process loses at most the rows queued and not yet written (one batch and the queue behind
//! it); a graceful stop writes them all. [`AuditLog::flush`] waits until everything queued
//! before it is written.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::Row as _;
use storage::{Backend, Database};
use telemetry::SystemRandom;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Rows waiting to be written: headroom for a stalled disk at thousands of calls a second.
const QUEUE: usize = 4096;
/// Rows taken from the queue per batch.
const BATCH: usize = 512;
/// Rows per `INSERT` statement: 10 parameters each stays far below both backends' limits
/// (32,766 on SQLite, 65,535 on PostgreSQL).
const ROWS_PER_STATEMENT: usize = 128;
/// Attempts per statement before its rows go to the log instead.
const ATTEMPTS: u32 = 3;

const INSERT: &str = "INSERT INTO audit_events (id, recorded_at, decision, reason, request_id, \
    peer, service_token_jti, subject, txn_token_jti, txn) VALUES ";
const COLUMNS: usize = 10;

/// What was decided at step 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Refused => "refused",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    /// Set by the writer; sorts in recording order.
    pub id: String,
    /// Seconds since the epoch, by the agent's clock.
    pub recorded_at: i64,
    /// `allowed` or `refused`.
    pub decision: String,
    /// Why.
    pub reason: String,
    pub request_id: Option<String>,
    /// The calling workload: the SPIFFE ID of the mTLS peer.
    pub peer: Option<String>,
    pub service_token_jti: Option<String>,
    /// The customer: `sub` of the verified transaction token.
    pub subject: Option<String>,
    pub txn_token_jti: Option<String>,
    /// The transaction token's `txn`.
    pub txn: Option<String>,
}

impl AuditEvent {
    pub fn new(decision: Decision, recorded_at: i64, reason: impl Into<String>) -> Self {
        Self {
            recorded_at,
            decision: decision.as_str().to_owned(),
            reason: reason.into(),
            ..Self::default()
        }
    }
}

enum Command {
    Record(Box<AuditEvent>),
    Flush(oneshot::Sender<()>),
}

/// The handle handlers record through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Command>,
}

impl AuditLog {
    /// Starts the writer. It ends once every handle is dropped and the queue is written.
    pub fn start(db: Database) -> (Self, JoinHandle<()>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        (Self { queue }, tokio::spawn(Writer::new(db).run(receiver)))
    }

    /// Queues `event`, waiting while the queue is full.
    pub async fn record(&self, event: AuditEvent) {
        if let Err(mpsc::error::SendError(Command::Record(event))) =
            self.queue.send(Command::Record(Box::new(event))).await
        {
            log_unwritten(&event, "the audit writer has stopped");
        }
    }

    /// Waits until every event queued before this call is written (or logged as unwritable).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Record(_) => "Record",
            Self::Flush(_) => "Flush",
        })
    }
}

struct Writer {
    db: Database,
    /// Tells this process's ids from another instance's written in the same nanosecond.
    instance: u32,
    last_nanos: u64,
}

impl Writer {
    fn new(db: Database) -> Self {
        let mut tag = [0u8; 4];
        // Without randomness the tag stays zero; ids remain unique within this process.
        let _ = telemetry::RandomSource::fill(&SystemRandom::new(), &mut tag);
        Self {
            db,
            instance: u32::from_be_bytes(tag),
            last_nanos: 0,
        }
    }

    async fn run(mut self, mut receiver: mpsc::Receiver<Command>) {
        let mut commands = Vec::with_capacity(BATCH);
        let mut events = Vec::with_capacity(BATCH);
        while receiver.recv_many(&mut commands, BATCH).await > 0 {
            let mut flushes = Vec::new();
            for command in commands.drain(..) {
                match command {
                    Command::Record(event) => events.push(*event),
                    Command::Flush(done) => flushes.push(done),
                }
            }
            if !events.is_empty() {
                self.write(&mut events).await;
                events.clear();
            }
            // Everything queued before each flush request was in this batch or an earlier one.
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    async fn write(&mut self, events: &mut [AuditEvent]) {
        for event in events.iter_mut() {
            event.id = self.next_id();
        }
        // Each statement is its own transaction: a chunk is written whole or not at all.
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            for attempt in 1..=ATTEMPTS {
                match insert(&self.db, chunk).await {
                    Ok(()) => break,
                    Err(error) if attempt < ATTEMPTS => {
                        tracing::warn!(%error, attempt, rows = chunk.len(), "audit write failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                    }
                    Err(error) => {
                        let why = format!("the audit write failed {ATTEMPTS} times: {error}");
                        for event in chunk {
                            log_unwritten(event, &why);
                        }
                    }
                }
            }
        }
    }

    /// A time-ordered id: nanoseconds since the epoch (strictly increasing within the process),
    /// then the instance tag, both fixed-width hex so text order is time order.
    fn next_id(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
            });
        self.last_nanos = now.max(self.last_nanos.saturating_add(1));
        format!("{:016x}{:08x}", self.last_nanos, self.instance)
    }
}

/// One multi-row `INSERT` of `rows`.
async fn insert(db: &Database, rows: &[AuditEvent]) -> Result<(), sqlx::Error> {
    let mut sql = String::with_capacity(INSERT.len() + rows.len() * COLUMNS * 6);
    sql.push_str(INSERT);
    for row in 0..rows.len() {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            match db.backend() {
                // SQLite resolves a numbered parameter by searching the statement's parameter
                // names, once per parameter: quadratic in a statement of 1,280 of them.
                // Anonymous `?` parameters are bound by position.
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * COLUMNS + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    let mut statement = sqlx::query(&sql);
    for event in rows {
        statement = statement
            .bind(&event.id)
            .bind(event.recorded_at)
            .bind(&event.decision)
            .bind(&event.reason)
            .bind(&event.request_id)
            .bind(&event.peer)
            .bind(&event.service_token_jti)
            .bind(&event.subject)
            .bind(&event.txn_token_jti)
            .bind(&event.txn);
    }
    statement.execute(db.pool()).await?;
    Ok(())
}

/// The last resort: the row, in the log.
fn log_unwritten(event: &AuditEvent, why: &str) {
    tracing::error!(
        recorded_at = event.recorded_at,
        decision = %event.decision,
        reason = %event.reason,
        request_id = event.request_id.as_deref(),
        peer = event.peer.as_deref(),
        service_token_jti = event.service_token_jti.as_deref(),
        subject = event.subject.as_deref(),
        txn_token_jti = event.txn_token_jti.as_deref(),
        txn = event.txn.as_deref(),
        "audit event not written to the database: {why}"
    );
}

/// Every row, oldest first (for operators and tests; the trail is append-only).
pub async fn list(db: &Database) -> Result<Vec<AuditEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, recorded_at, decision, reason, request_id, peer, service_token_jti, \
         subject, txn_token_jti, txn FROM audit_events ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEvent {
                id: row.try_get("id")?,
                recorded_at: row.try_get("recorded_at")?,
                decision: row.try_get("decision")?,
                reason: row.try_get("reason")?,
                request_id: row.try_get("request_id")?,
                peer: row.try_get("peer")?,
                service_token_jti: row.try_get("service_token_jti")?,
                subject: row.try_get("subject")?,
                txn_token_jti: row.try_get("txn_token_jti")?,
                txn: row.try_get("txn")?,
            })
        })
        .collect()
}
