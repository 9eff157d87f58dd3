//! `grant_type=client_credentials`: the service token, and every refusal with its exact error.

use internal_iam::audit::AuditEvent;
use serde_json::Value;
use tokens::thumbprint::x5t_s256;
use workload_identity::workloads::{AGENT_A, AGENT_B};

use crate::support::TestIam;
use crate::support::iam::{CROSS_NS, SERVICE_A};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");
const AUDIENCE: (&str, &str) = ("audience", SERVICE_A);
const SCOPE: (&str, &str) = ("scope", CROSS_NS);

#[tokio::test]
async fn a_registered_workload_gets_a_token_bound_to_the_certificate_it_presented() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let agent_b = iam.pki.id(AGENT_B).to_string();
    let body = iam
        .token(&client, &[GRANT, AUDIENCE, SCOPE, ("client_id", &agent_b)])
        .await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], CROSS_NS);
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("issued_token_type").is_none());

    let claims = iam
        .verify_service_token(body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(claims.iss, "https://localhost:8443");
    assert_eq!(claims.sub, agent_b);
    assert_eq!(claims.client_id, agent_b);
    assert_eq!(claims.aud.as_slice(), [SERVICE_A]);
    assert_eq!(claims.scope.to_string(), CROSS_NS);
    assert_eq!(claims.exp - claims.iat, 300);
    assert_eq!(claims.iat, tokens::Clock::now(iam.clock.as_ref()));
    assert_eq!(claims.jti.len(), 22);
    // RFC 8705 §3.1: the SHA-256 thumbprint of the DER certificate that asked for the token.
    assert_eq!(
        claims.certificate_thumbprint(),
        Some(x5t_s256(&iam.pki.leaf(AGENT_B)).as_str())
    );

    let audit = iam.audit().await;
    let [event] = audit.as_slice() else {
        panic!("{audit:?}")
    };
    assert_eq!(event.outcome, "issued");
    assert_eq!(event.grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(event.spiffe_id.as_deref(), Some(agent_b.as_str()));
    assert_eq!(event.audience.as_deref(), Some(SERVICE_A));
    assert_eq!(event.scope.as_deref(), Some(CROSS_NS));
    assert_eq!(event.jti.as_deref(), Some(claims.jti.as_str()));
    assert!(event.request_id.is_some());
    iam.stop().await;
}

#[tokio::test]
async fn the_request_id_is_taken_from_the_caller_and_returned() {
    let iam = TestIam::start().await;
    let response = iam
        .client(AGENT_B)
        .post(iam.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", "chat-action-0001")
        .body(
            "grant_type=client_credentials&audience=agent-service-a&scope=cross-namespace%3Ainvoke",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "chat-action-0001");
    let audit = iam.audit().await;
    assert_eq!(audit[0].request_id.as_deref(), Some("chat-action-0001"));
    iam.stop().await;
}

#[tokio::test]
async fn a_requested_lifetime_is_honoured_up_to_the_cap_and_refused_above_it() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    for (asked, granted) in [("60", 60), ("900", 900)] {
        let body = iam
            .token(&client, &[GRANT, AUDIENCE, SCOPE, ("expires_in", asked)])
            .await;
        assert_eq!(body["expires_in"], granted);
        let claims = iam
            .verify_service_token(body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(claims.exp - claims.iat, granted);
    }
    let over = iam
        .refused(&client, &[GRANT, AUDIENCE, SCOPE, ("expires_in", "901")])
        .await;
    assert_eq!((over.status, over.error.as_str()), (400, "invalid_request"));
    assert_eq!(
        over.description,
        "expires_in 901 is over the 900-second maximum lifetime of a service token"
    );
    for junk in ["0", "-5", "1.5", "ten", "99999999999"] {
        let error = iam
            .refused(&client, &[GRANT, AUDIENCE, SCOPE, ("expires_in", junk)])
            .await;
        assert_eq!(error.error, "invalid_request", "{junk}");
    }
    let audit = iam.audit().await;
    assert_eq!(issued(&audit), 2);
    iam.stop().await;
}

fn issued(audit: &[AuditEvent]) -> usize {
    audit
        .iter()
        .filter(|event| event.outcome == "issued")
        .count()
}

/// One refusal: who asks, with what, and the exact answer.
struct Case {
    name: &'static str,
    caller: workload_identity::workloads::Workload,
    params: Vec<(&'static str, String)>,
    error: &'static str,
    description: String,
}

fn case(
    name: &'static str,
    caller: workload_identity::workloads::Workload,
    params: &[(&'static str, &str)],
    error: &'static str,
    description: impl Into<String>,
) -> Case {
    Case {
        name,
        caller,
        params: params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        error,
        description: description.into(),
    }
}

#[tokio::test]
async fn each_refusal_has_its_exact_error_is_audited_and_issues_nothing() {
    let iam = TestIam::start().await;
    let agent_a = iam.pki.id(AGENT_A).to_string();
    let agent_b = iam.pki.id(AGENT_B).to_string();
    let cases = [
        case(
            "unregistered SPIFFE ID",
            AGENT_A,
            &[GRANT, AUDIENCE, SCOPE],
            "invalid_client",
            format!("{agent_a} is not registered with this IAM"),
        ),
        case(
            "client_id of another workload",
            AGENT_B,
            &[GRANT, AUDIENCE, SCOPE, ("client_id", &agent_a)],
            "invalid_client",
            format!(
                "client_id `{agent_a}` is not the SPIFFE ID of the presented certificate, {agent_b}"
            ),
        ),
        case(
            "audience the registration does not allow",
            AGENT_B,
            &[GRANT, ("audience", "service-a2"), SCOPE],
            "invalid_target",
            format!("{agent_b} may not obtain tokens for the audience `service-a2`"),
        ),
        case(
            "scope the registration does not allow",
            AGENT_B,
            &[GRANT, AUDIENCE, ("scope", "cross-namespace:invoke admin")],
            "invalid_scope",
            format!("the scope `admin` is not granted to {agent_b} for agent-service-a"),
        ),
        case(
            "no scope",
            AGENT_B,
            &[GRANT, AUDIENCE],
            "invalid_scope",
            "scope is required: name the scopes the token needs",
        ),
        case(
            "no audience",
            AGENT_B,
            &[GRANT, SCOPE],
            "invalid_request",
            "audience (or resource) is required: name the service the token is for",
        ),
        case(
            "two audiences",
            AGENT_B,
            &[GRANT, AUDIENCE, ("audience", "service-a2"), SCOPE],
            "invalid_target",
            "a service token has one audience: request one token per service",
        ),
        case(
            "a resource that is not an absolute URI",
            AGENT_B,
            &[GRANT, ("resource", SERVICE_A), SCOPE],
            "invalid_target",
            "the resource `agent-service-a` is not an absolute URI without a fragment (RFC 8707)",
        ),
        case(
            "unsupported grant type",
            AGENT_B,
            &[("grant_type", "password"), AUDIENCE, SCOPE],
            "unsupported_grant_type",
            "grant_type `password` is not supported: use client_credentials or token exchange",
        ),
        case(
            "a grant type of another kind of server",
            AGENT_B,
            &[("grant_type", "authorization_code"), ("code", "x")],
            "unsupported_grant_type",
            "grant_type authorization_code is not supported here: use client_credentials or token exchange",
        ),
        case(
            "no grant type",
            AGENT_B,
            &[AUDIENCE, SCOPE],
            "invalid_request",
            "grant_type is required",
        ),
        case(
            "a repeated parameter",
            AGENT_B,
            &[GRANT, AUDIENCE, SCOPE, SCOPE],
            "invalid_request",
            "the parameter `scope` appears more than once",
        ),
        case(
            "a second client authentication method",
            AGENT_B,
            &[GRANT, AUDIENCE, SCOPE, ("client_secret", "s3cret")],
            "invalid_request",
            "clients authenticate with their certificate (tls_client_auth) only; client_secret is not accepted",
        ),
    ];
    for (index, case) in cases.iter().enumerate() {
        let params: Vec<(&str, &str)> = case.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let error = iam.refused(&iam.client(case.caller), &params).await;
        assert_eq!(
            (
                error.status,
                error.error.as_str(),
                error.description.as_str()
            ),
            (400, case.error, case.description.as_str()),
            "{}",
            case.name
        );
        let audit = iam.audit().await;
        assert_eq!(audit.len(), index + 1, "{}", case.name);
        let event = audit.last().unwrap();
        assert_eq!(event.outcome, "refused", "{}", case.name);
        assert_eq!(event.error.as_deref(), Some(case.error), "{}", case.name);
        assert_eq!(event.reason, case.description, "{}", case.name);
        assert_eq!(event.jti, None, "{}", case.name);
        assert_eq!(
            event.spiffe_id.as_deref(),
            Some(iam.pki.id(case.caller).as_str()),
            "{}",
            case.name
        );
    }
    assert_eq!(issued(&iam.audit().await), 0);
    iam.stop().await;
}

#[tokio::test]
async fn a_body_that_is_not_a_form_or_too_large_is_an_invalid_request() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let json = client
        .post(iam.url("/token"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "the token request must be application/x-www-form-urlencoded"
    );

    let huge = format!("grant_type=client_credentials&scope={}", "a".repeat(20_000));
    let response = client
        .post(iam.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "the request body is unreadable or over 16384 bytes"
    );

    let bearer = client
        .post(iam.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", "Basic YWdlbnQtYjpzZWNyZXQ=")
        .body(
            "grant_type=client_credentials&audience=agent-service-a&scope=cross-namespace%3Ainvoke",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 400);
    let body: Value = bearer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(issued(&iam.audit().await), 0);
    assert_eq!(iam.audit().await.len(), 3);
    iam.stop().await;
}
