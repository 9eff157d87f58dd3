//! Hostile input beyond the listed refusals: parameter pollution with empty copies, lifetimes
//! spelled every wrong way, scope tricks, transaction tokens that would outlive the customer's
//! token, and audit rows under concurrent requests.

use serde_json::{Value, json};
use tokens::Clock as _;
use tokens::claims::TransactionTokenClaims;
use workload_identity::workloads::AGENT_B;

use crate::support::TestIam;
use crate::support::iam::{CROSS_NS, SERVICE_A};
use crate::support::issuer::patched;

const GRANT: (&str, &str) = ("grant_type", "client_credentials");
const AUDIENCE: (&str, &str) = ("audience", SERVICE_A);
const SCOPE: (&str, &str) = ("scope", CROSS_NS);
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A refusal case: its name, the form, the OAuth error expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn exchange<'a>(subject: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN),
    ];
    params.extend_from_slice(extra);
    params
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&tokens::b64::decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn request_tricks_are_refused_with_their_exact_error() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let cases: Vec<Case> = vec![
        (
            "an empty first copy of a parameter",
            vec![GRANT, AUDIENCE, ("scope", ""), SCOPE],
            "invalid_request",
        ),
        (
            "an empty second copy of a parameter",
            vec![GRANT, AUDIENCE, SCOPE, ("grant_type", "")],
            "invalid_request",
        ),
        (
            "expires_in negative",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "-1")],
            "invalid_request",
        ),
        (
            "expires_in zero",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "0")],
            "invalid_request",
        ),
        (
            "expires_in a float",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "1.5")],
            "invalid_request",
        ),
        (
            "expires_in exponent",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "1e2")],
            "invalid_request",
        ),
        (
            "expires_in signed",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "+60")],
            "invalid_request",
        ),
        (
            "expires_in padded",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", " 60")],
            "invalid_request",
        ),
        (
            "expires_in overflowing",
            vec![
                GRANT,
                AUDIENCE,
                SCOPE,
                ("expires_in", "18446744073709551616"),
            ],
            "invalid_request",
        ),
        (
            "expires_in over the cap",
            vec![GRANT, AUDIENCE, SCOPE, ("expires_in", "901")],
            "invalid_request",
        ),
        (
            "a scope with a doubled space",
            vec![
                GRANT,
                AUDIENCE,
                ("scope", "cross-namespace:invoke  cross-namespace:invoke"),
            ],
            "invalid_scope",
        ),
        (
            "a scope with a leading space",
            vec![GRANT, AUDIENCE, ("scope", " cross-namespace:invoke")],
            "invalid_scope",
        ),
        (
            "a scope that differs by case",
            vec![GRANT, AUDIENCE, ("scope", "Cross-Namespace:Invoke")],
            "invalid_scope",
        ),
        (
            "a scope with a homoglyph",
            vec![GRANT, AUDIENCE, ("scope", "cross-namespace:invokе")],
            "invalid_scope",
        ),
        (
            "an audience with trailing whitespace",
            vec![GRANT, ("audience", "agent-service-a "), SCOPE],
            "invalid_target",
        ),
        (
            "an audience differing by case",
            vec![GRANT, ("audience", "Agent-Service-A"), SCOPE],
            "invalid_target",
        ),
        (
            "a resource with a fragment",
            vec![GRANT, ("resource", "https://agent-service-a/#x"), SCOPE],
            "invalid_target",
        ),
    ];
    for (name, params, error) in cases {
        let refused = iam.refused(&client, &params).await;
        assert_eq!(
            (refused.status, refused.error.as_str()),
            (400, error),
            "{name}: {}",
            refused.description
        );
    }
    let audit = iam.audit().await;
    assert!(
        audit
            .iter()
            .all(|event| event.outcome == "refused" && event.jti.is_none())
    );
    iam.stop().await;
}

#[tokio::test]
async fn exchange_tricks_are_refused_with_their_exact_error() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let now = iam.clock.now();
    let external = &iam.external;
    let not_yet = external.sign(
        "at+jwt",
        &patched(external.claims(now), json!({"nbf": now + 3600})),
    );
    let long_lived = external.sign(
        "at+jwt",
        &patched(external.claims(now), json!({"exp": now + 86_400})),
    );
    let no_scope = external.sign(
        "at+jwt",
        &patched(external.claims(now), json!({"scope": null})),
    );
    let good = external.access_token(now);
    let (header, payload, _) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    let unsigned = format!(
        "{}.{payload}.",
        tokens::b64::encode(br#"{"alg":"none","typ":"at+jwt"}"#)
    );
    let stripped = format!("{header}.{payload}.");
    let cases: Vec<Case> = vec![
        (
            "a subject token not yet valid",
            exchange(&not_yet, &[]),
            "invalid_grant",
        ),
        (
            "a subject token living a day",
            exchange(&long_lived, &[]),
            "invalid_grant",
        ),
        (
            "a subject token without scope",
            exchange(&no_scope, &[]),
            "invalid_grant",
        ),
        (
            "an unsigned subject token",
            exchange(&unsigned, &[]),
            "invalid_grant",
        ),
        (
            "a subject token without its signature",
            exchange(&stripped, &[]),
            "invalid_grant",
        ),
        (
            "an actor token alone",
            exchange(&good, &[("actor_token", "x")]),
            "invalid_request",
        ),
        (
            "an audience given as the trust domain's URI",
            exchange(&good, &[("resource", "spiffe://demo.test")]),
            "invalid_target",
        ),
        (
            "the trust domain and another audience",
            exchange(&good, &[("audience", "demo.test"), ("audience", SERVICE_A)]),
            "invalid_target",
        ),
        (
            "requested_token_type of an access token",
            exchange(&good, &[("requested_token_type", ACCESS_TOKEN)]),
            "invalid_request",
        ),
        (
            "a scope the customer does not have, by case",
            exchange(&good, &[("scope", "OPENID")]),
            "invalid_scope",
        ),
    ];
    for (name, params, error) in cases {
        let refused = iam.refused(&client, &params).await;
        assert_eq!(
            (refused.status, refused.error.as_str()),
            (400, error),
            "{name}: {}",
            refused.description
        );
    }
    let audit = iam.audit().await;
    assert!(
        audit
            .iter()
            .all(|event| event.outcome == "refused" && event.jti.is_none())
    );
    iam.stop().await;
}

/// A transaction token vouches for the customer's authorization: it must not outlive the token
/// it was exchanged for, and a subject token that is only alive by the validator's leeway yields
/// nothing.
#[tokio::test]
async fn a_transaction_token_never_outlives_the_customers_token() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let now = iam.clock.now();
    let external = &iam.external;
    let short = external.sign(
        "at+jwt",
        &patched(external.claims(now - 590), json!({"exp": now + 10})),
    );
    let body = iam.token(&client, &exchange(&short, &[])).await;
    assert_eq!(body["expires_in"], 10);
    let txn = body["access_token"].as_str().unwrap();
    let claims: TransactionTokenClaims = serde_json::from_value(claims_of(txn)).unwrap();
    assert_eq!(claims.exp, now + 10);

    let in_leeway = external.sign(
        "at+jwt",
        &patched(external.claims(now - 600), json!({"exp": now - 5})),
    );
    let refused = iam.refused(&client, &exchange(&in_leeway, &[])).await;
    assert_eq!(
        (refused.status, refused.error.as_str()),
        (400, "invalid_grant"),
        "{}",
        refused.description
    );
    iam.stop().await;
}

#[tokio::test]
async fn repeated_scope_tokens_are_listed_once() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let now = iam.clock.now();
    let subject = iam.external.access_token(now);
    let body = iam
        .token(
            &client,
            &exchange(&subject, &[("scope", "openid agent:invoke openid")]),
        )
        .await;
    assert_eq!(body["scope"], "openid agent:invoke");
    let txn = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(txn["scope"], "openid agent:invoke");
    let body = iam
        .token(
            &client,
            &[
                GRANT,
                AUDIENCE,
                ("scope", "cross-namespace:invoke cross-namespace:invoke"),
            ],
        )
        .await;
    assert_eq!(body["scope"], CROSS_NS);
    iam.stop().await;
}

/// Concurrent requests each leave exactly one audit row, with distinct token ids.
#[tokio::test]
async fn concurrent_requests_are_each_audited_once() {
    let iam = TestIam::start().await;
    let client = iam.client(AGENT_B);
    let mut tasks = Vec::new();
    for index in 0..24 {
        let client = client.clone();
        let url = iam.url("/token");
        let body = if index % 3 == 0 {
            "grant_type=client_credentials&audience=nowhere&scope=cross-namespace%3Ainvoke"
        } else {
            "grant_type=client_credentials&audience=agent-service-a&scope=cross-namespace%3Ainvoke"
        };
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 16);
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 8);
    let audit = iam.audit().await;
    assert_eq!(audit.len(), 24);
    let mut jtis: Vec<&str> = audit.iter().filter_map(|e| e.jti.as_deref()).collect();
    assert_eq!(jtis.len(), 16);
    jtis.sort_unstable();
    jtis.dedup();
    assert_eq!(jtis.len(), 16);
    iam.stop().await;
}
