//! The internal IAM's token endpoint called directly over mutual TLS as a workload (design step
//! 14): a test obtains the same service and transaction tokens Agent B obtains, to present them
//! where and how Agent B never would.

use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;
use telemetry::RequestContext;
use wire::audiences::AGENT_SERVICE_A;
use wire::scopes::{AGENT_INVOKE, CROSS_NAMESPACE_INVOKE};
use wire::{GrantType, TokenType};
use workload_identity::workloads::{self, Workload};
use workload_identity::{ClientAlpn, PeerPolicy};

use super::Reply;
use crate::kit::TestEnv;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A workload's client of the internal IAM.
#[derive(Debug)]
pub struct InternalIamClient {
    http: reqwest::Client,
    token_url: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

impl InternalIamClient {
    /// A client presenting `workload`'s SVID (its client authentication, RFC 8705 §2.1) and
    /// accepting exactly the IAM's SPIFFE ID. HTTP/2, as Agent B speaks to the IAM.
    pub fn new(env: &TestEnv, workload: Workload) -> Self {
        let tls = workload_identity::client_config(
            super::identity(env, workload),
            PeerPolicy::only(super::spiffe_id(workloads::INTERNAL_IAM)),
            ClientAlpn::Grpc,
        )
        .unwrap_or_else(|error| panic!("cannot build the TLS client for the IAM: {error}"));
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .http2_prior_knowledge()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|error| panic!("cannot build the HTTP client for the IAM: {error}"));
        Self {
            http,
            token_url: format!("https://127.0.0.1:{}/token", env.stack().ports.internal_iam),
        }
    }

    /// A service token for Agent A (`client_credentials`, audience `agent-service-a`, scope
    /// `cross-namespace:invoke`), bound to this workload's certificate. Panics unless issued.
    pub async fn service_token(&self, context: &RequestContext) -> String {
        self.issued(
            &[
                ("grant_type", GrantType::ClientCredentials.as_str()),
                ("audience", AGENT_SERVICE_A),
                ("scope", CROSS_NAMESPACE_INVOKE),
            ],
            context,
            "the service token",
        )
        .await
    }

    /// The user context for `context`'s request: the customer's access token exchanged for a
    /// transaction token (RFC 8693), as Agent B asks for it. Panics unless issued.
    pub async fn transaction_token(&self, subject_token: &str, context: &RequestContext) -> String {
        self.issued(
            &[
                ("grant_type", GrantType::TokenExchange.as_str()),
                ("subject_token", subject_token),
                ("subject_token_type", TokenType::AccessToken.as_str()),
                ("requested_token_type", TokenType::TxnToken.as_str()),
                ("scope", AGENT_INVOKE),
            ],
            context,
            "the transaction token",
        )
        .await
    }

    /// `POST /token` with `form`, under `context`'s request id.
    pub async fn post(&self, form: &[(&str, &str)], context: &RequestContext) -> Reply {
        let response = self
            .http
            .post(&self.token_url)
            .header(
                wire::headers::X_REQUEST_ID,
                context.request_id.as_str().to_owned(),
            )
            .form(form)
            .send()
            .await
            .unwrap_or_else(|error| panic!("the token request to the IAM failed: {error:?}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|error| panic!("reading the IAM's answer failed: {error}"));
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn issued(&self, form: &[(&str, &str)], context: &RequestContext, what: &str) -> String {
        let reply = self.post(form, context).await;
        assert_eq!(reply.status, StatusCode::OK, "{what}: {reply}");
        reply.json::<TokenResponse>().access_token
    }
}
