//! RFC 8693 token exchange: the customer's access token for a transaction token.

use serde_json::{Value, json};
use tokens::claims::TransactionTokenClaims;
use tokens::{Algorithm, Clock as _, SigningKey, jws};
use workload_identity::workloads::{AGENT_A, AGENT_B, WEB_APP, Workload};

use crate::support::TestIam;
use crate::support::issuer::{AGENT_B_API, patched};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const TXN_TOKEN: &str = "urn:ietf:params:oauth:token-type:txn_token";

fn params<'a>(subject_token: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", subject_token),
        ("subject_token_type", ACCESS_TOKEN),
        ("requested_token_type", TXN_TOKEN),
    ];
    params.extend_from_slice(extra);
    params
}

async fn verify_txn(iam: &TestIam, token: &str) -> TransactionTokenClaims {
    iam.validator("txntoken+jwt", "demo.test")
        .await
        .validate::<TransactionTokenClaims>(token)
        .await
        .unwrap()
        .into_claims()
}

#[tokio::test]
async fn agent_b_exchanges_the_customers_token_for_a_transaction_token() {
    let iam = TestIam::start().await;
    let now = iam.clock.now();
    let subject = iam.external.access_token(now);
    let body = iam
        .client(AGENT_B)
        .post(iam.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", "chat-action-0042")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params(&subject, &[]))
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(body.headers()["cache-control"], "no-store");
    let body: Value = body.json().await.unwrap();
    assert_eq!(body["issued_token_type"], TXN_TOKEN);
    assert_eq!(body["token_type"], "N_A");
    assert_eq!(body["expires_in"], 60);
    assert_eq!(body["scope"], "openid chatbot:access agent:invoke");

    let claims = verify_txn(&iam, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.iss, "https://localhost:8443");
    assert_eq!(claims.aud.as_slice(), ["demo.test"]);
    assert_eq!(claims.sub, "customer-42");
    assert_eq!(claims.txn, "chat-action-0042");
    assert_eq!(claims.exp - claims.iat, 60);
    assert_eq!(claims.req_wl.latest(), iam.pki.id(AGENT_B).as_str());
    assert_eq!(
        claims.scope.to_string(),
        "openid chatbot:access agent:invoke"
    );
    assert_eq!(claims.tctx["iss"], iam.external.issuer.as_str());
    assert_eq!(claims.tctx["scope"], "openid chatbot:access agent:invoke");
    // The customer's token does not travel on inside the transaction token.
    let text = serde_json::to_string(&claims).unwrap();
    assert!(!text.contains(&subject[..40]));

    let audit = iam.audit().await;
    let event = audit.last().unwrap();
    assert_eq!(event.outcome, "issued");
    assert_eq!(event.grant_type.as_deref(), Some(EXCHANGE));
    assert_eq!(event.subject.as_deref(), Some("customer-42"));
    assert_eq!(event.subject_jti.as_deref(), Some("customer-token-1"));
    assert_eq!(event.jti, claims.jti);
    assert_eq!(event.audience.as_deref(), Some("demo.test"));
    assert_eq!(event.request_id.as_deref(), Some("chat-action-0042"));
    iam.stop().await;
}

#[tokio::test]
async fn a_narrower_scope_may_be_requested() {
    let iam = TestIam::start().await;
    let subject = iam.external.access_token(iam.clock.now());
    let body = iam
        .token(
            &iam.client(AGENT_B),
            &params(
                &subject,
                &[("scope", "chatbot:access"), ("audience", "demo.test")],
            ),
        )
        .await;
    let claims = verify_txn(&iam, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims.scope.to_string(), "chatbot:access");
    // tctx records what the customer granted, not what this transaction uses.
    assert_eq!(claims.tctx["scope"], "openid chatbot:access agent:invoke");
    iam.stop().await;
}

#[tokio::test]
async fn each_bad_subject_token_is_an_invalid_grant_with_its_reason() {
    let iam = TestIam::start().await;
    let now = iam.clock.now();
    let external = &iam.external;
    let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
    let good = external.access_token(now);
    // One signature character changed, away from the end (the last character of a strict
    // base64url encoding carries padding bits, and changing it may only break the encoding).
    let mut tampered = good.clone().into_bytes();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases: Vec<(&str, String, String)> = vec![
        (
            "signed by a key the issuer does not publish",
            jws::sign(&stranger, "at+jwt", &external.claims(now), None).unwrap(),
            format!(
                "the subject token was refused: no key with `kid` '{}' is published by the issuer, even after a refresh",
                stranger.kid()
            ),
        ),
        (
            "a forged signature",
            tampered,
            "the subject token was refused: the signature is not valid".to_owned(),
        ),
        (
            "expired",
            external.sign(
                "at+jwt",
                &patched(external.claims(now - 700), json!({"exp": now - 100})),
            ),
            format!("the subject token was refused: the token expired at {} (now {now})", now - 100),
        ),
        (
            "for another audience",
            external.sign(
                "at+jwt",
                &patched(external.claims(now), json!({"aud": "https://web-app.demo.test"})),
            ),
            format!("the subject token was refused: the audience does not include '{AGENT_B_API}'"),
        ),
        (
            "a transaction token, not an access token",
            external.sign("txntoken+jwt", &external.claims(now)),
            "the subject token was refused: the token's `typ` is 'txntoken+jwt', but 'at+jwt' is required"
                .to_owned(),
        ),
        (
            "an ID token",
            external.sign("JWT", &external.claims(now)),
            "the subject token was refused: the token's `typ` is 'JWT', but 'at+jwt' is required"
                .to_owned(),
        ),
        (
            "from another issuer",
            external.sign(
                "at+jwt",
                &patched(external.claims(now), json!({"iss": "https://evil.example"})),
            ),
            format!(
                "the subject token was refused: the issuer is 'https://evil.example', but '{}' is required",
                external.issuer
            ),
        ),
        (
            "without a subject",
            external.sign("at+jwt", &patched(external.claims(now), json!({"sub": null}))),
            "the subject token was refused: the required claim `sub` is missing".to_owned(),
        ),
        (
            "not a JWT at all",
            "not-a-token".to_owned(),
            "the subject token was refused: the token does not have three dot-separated segments"
                .to_owned(),
        ),
    ];
    let client = iam.client(AGENT_B);
    for (index, (name, token, description)) in cases.iter().enumerate() {
        let error = iam.refused(&client, &params(token, &[])).await;
        assert_eq!(
            (
                error.status,
                error.error.as_str(),
                error.description.as_str()
            ),
            (400, "invalid_grant", description.as_str()),
            "{name}"
        );
        let audit = iam.audit().await;
        assert_eq!(audit.len(), index + 1, "{name}");
        assert_eq!(audit[index].outcome, "refused");
        assert_eq!(audit[index].error.as_deref(), Some("invalid_grant"));
        assert_eq!(audit[index].grant_type.as_deref(), Some(EXCHANGE));
    }
    assert!(
        iam.audit()
            .await
            .iter()
            .all(|event| event.outcome == "refused")
    );
    iam.stop().await;
}

#[tokio::test]
async fn each_bad_exchange_request_has_its_exact_error() {
    let iam = TestIam::start().await;
    let subject = iam.external.access_token(iam.clock.now());
    let web_app = iam.pki.id(WEB_APP);
    let agent_a = iam.pki.id(AGENT_A);
    // (what is wrong, caller, form, error, description)
    type Case<'a> = (&'a str, Workload, Vec<(&'a str, &'a str)>, &'a str, String);
    let cases: Vec<Case> = vec![
        (
            "a caller without the exchange right",
            WEB_APP,
            params(&subject, &[]),
            "unauthorized_client",
            format!("{web_app} may not use token exchange: its registration has no exchange right"),
        ),
        (
            "an unregistered caller",
            AGENT_A,
            params(&subject, &[]),
            "invalid_client",
            format!("{agent_a} is not registered with this IAM"),
        ),
        (
            "a scope wider than the subject's",
            AGENT_B,
            params(&subject, &[("scope", "chatbot:access admin")]),
            "invalid_scope",
            "the scope `admin` is not in the subject token's scope; a transaction token is never wider"
                .to_owned(),
        ),
        (
            "a subject token of another type",
            AGENT_B,
            vec![
                ("grant_type", EXCHANGE),
                ("subject_token", subject.as_str()),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
            ],
            "invalid_request",
            format!(
                "subject_token_type `urn:ietf:params:oauth:token-type:id_token` is not supported: only {ACCESS_TOKEN} is exchanged"
            ),
        ),
        (
            "no subject token",
            AGENT_B,
            vec![("grant_type", EXCHANGE), ("subject_token_type", ACCESS_TOKEN)],
            "invalid_request",
            "subject_token is required".to_owned(),
        ),
        (
            "another requested token type",
            AGENT_B,
            vec![
                ("grant_type", EXCHANGE),
                ("subject_token", subject.as_str()),
                ("subject_token_type", ACCESS_TOKEN),
                ("requested_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ],
            "invalid_request",
            format!(
                "requested_token_type `urn:ietf:params:oauth:token-type:jwt` is not supported: only {TXN_TOKEN} is issued"
            ),
        ),
        (
            "an audience other than the trust domain",
            AGENT_B,
            params(&subject, &[("audience", "agent-service-a")]),
            "invalid_target",
            "a transaction token's audience is the trust domain demo.test, not `agent-service-a`"
                .to_owned(),
        ),
        (
            "delegation",
            AGENT_B,
            params(&subject, &[("actor_token", "x"), ("actor_token_type", ACCESS_TOKEN)]),
            "invalid_request",
            "delegation (actor_token) is not supported".to_owned(),
        ),
        (
            "a requested lifetime",
            AGENT_B,
            params(&subject, &[("expires_in", "30")]),
            "invalid_request",
            "expires_in is accepted with client_credentials only; a transaction token's lifetime is fixed"
                .to_owned(),
        ),
    ];
    for (index, (name, caller, params, error, description)) in cases.iter().enumerate() {
        let refused = iam.refused(&iam.client(*caller), params).await;
        assert_eq!(
            (
                refused.status,
                refused.error.as_str(),
                refused.description.as_str()
            ),
            (400, *error, description.as_str()),
            "{name}"
        );
        let audit = iam.audit().await;
        assert_eq!(audit.len(), index + 1, "{name}");
        assert_eq!(audit[index].error.as_deref(), Some(*error), "{name}");
    }
    assert!(
        iam.audit()
            .await
            .iter()
            .all(|event| event.outcome == "refused")
    );
    iam.stop().await;
}
