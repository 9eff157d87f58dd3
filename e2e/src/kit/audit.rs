//! The internal IAM's audit trail, read with the real operator command
//! (`internal-iam audit list --json`) against the running IAM's database.

use std::process::Command;

use serde::Deserialize;
use wire::Program;
use wire::grant_types::GrantType;

use crate::stack::Stack;

/// Which rows to read (the command's filters). Empty: every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// `issued` or `refused`.
    pub outcome: Option<String>,
    pub grant_type: Option<GrantType>,
    pub spiffe_id: Option<String>,
    pub request_id: Option<String>,
    /// Rows recorded at or after this time (seconds since the epoch).
    pub since: Option<i64>,
}

impl AuditQuery {
    /// Tokens issued with `grant_type`.
    pub fn issued(grant_type: GrantType) -> Self {
        Self {
            outcome: Some("issued".to_owned()),
            grant_type: Some(grant_type),
            ..Self::default()
        }
    }

    /// Requests refused (every grant type, and refused TLS handshakes).
    pub fn refused() -> Self {
        Self {
            outcome: Some("refused".to_owned()),
            ..Self::default()
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(format!("--{name}"));
                args.push(value);
            }
        };
        flag("outcome", self.outcome.clone());
        flag(
            "grant-type",
            self.grant_type.map(|grant| grant.as_str().to_owned()),
        );
        flag("spiffe-id", self.spiffe_id.clone());
        flag("request-id", self.request_id.clone());
        flag("since", self.since.map(|since| since.to_string()));
        args
    }
}

/// One audit row, as `audit list --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditRow {
    /// Seconds since the epoch.
    pub recorded_at: i64,
    /// `issued` or `refused`.
    pub outcome: String,
    pub grant_type: Option<String>,
    pub request_id: Option<String>,
    pub spiffe_id: Option<String>,
    pub peer_addr: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    /// The issued token's id.
    pub jti: Option<String>,
    /// The customer, for token exchanges.
    pub subject: Option<String>,
    pub subject_jti: Option<String>,
    /// The OAuth error code of a refusal.
    pub error: Option<String>,
    pub reason: String,
}

/// Runs `internal-iam audit list --json` on the stack's IAM database.
pub(crate) fn list(stack: &Stack, query: &AuditQuery) -> Result<Vec<AuditRow>, String> {
    let path = stack
        .binaries
        .path(Program::InternalIam)
        .map_err(|error| error.to_string())?;
    let mut command = Command::new(&path);
    command
        .args(["audit", "list", "--json", "--database-url"])
        .arg(stack.database_url(Program::InternalIam))
        .args(query.args());
    crate::child::scrub_environment(&mut command);
    let output = command
        .output()
        .map_err(|error| format!("cannot run {}: {error}", path.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`internal-iam audit list` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|error| format!("unexpected audit line {line:?}: {error}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_the_commands_filters() {
        assert_eq!(
            AuditQuery::issued(GrantType::ClientCredentials).args(),
            ["--outcome", "issued", "--grant-type", "client_credentials"]
        );
        let query = AuditQuery {
            request_id: Some("r1".to_owned()),
            since: Some(42),
            ..AuditQuery::refused()
        };
        assert_eq!(
            query.args(),
            [
                "--outcome",
                "refused",
                "--request-id",
                "r1",
                "--since",
                "42"
            ]
        );
        assert!(AuditQuery::default().args().is_empty());
    }

    #[test]
    fn reads_the_commands_json_rows() {
        let line = r#"{"id":"x","recorded_at":1800000000,"outcome":"issued","grant_type":"client_credentials","request_id":"r","spiffe_id":"spiffe://demo.test/ns/namespace-b/sa/agent-b","peer_addr":"127.0.0.1:1","audience":"agent-service-a","scope":"cross-namespace:invoke","jti":"j","subject":null,"subject_jti":null,"error":null,"reason":"registered"}"#;
        let row: AuditRow = serde_json::from_str(line).unwrap();
        assert_eq!(row.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(row.jti.as_deref(), Some("j"));
        assert_eq!(row.subject, None);
    }
}
