//! The request body and correlation header, read strictly once the customer is authenticated.

use crate::support::{ALICE, TestEnv};

#[tokio::test]
async fn malformed_bodies_are_invalid_requests() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);
    for (body, description) in [
        (r#"{"message": "   "}"#, "the message is empty"),
        (
            &format!(r#"{{"message": "{}"}}"#, "a".repeat(501)),
            "the message is longer than 500 characters",
        ),
        (
            r#"{"message": "balance", "subject": "demo-user-bob"}"#,
            "the body must be {\"message\": \"...\"} and nothing else: unknown field `subject`",
        ),
        (
            "not json",
            "the body must be {\"message\": \"...\"} and nothing else",
        ),
    ] {
        let mut call = web.call(&token, "unused");
        call.body = body.to_owned();
        let reply = web.send(call).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.error(), "invalid_request");
        let found = reply.body["error_description"].as_str().unwrap();
        assert!(found.starts_with(description), "{body}: {found}");
        // Step 12 passed; the timeline says so.
        assert_eq!(reply.step_numbers(), [12]);
    }
    env.stop().await;
}

#[tokio::test]
async fn wrong_media_types_and_large_bodies_are_refused() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);

    let mut call = web.call(&token, "balance");
    call.content_type = Some("text/plain".to_owned());
    let reply = web.send(call).await;
    assert_eq!(reply.status, 415, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_request");

    let mut call = web.call(&token, "balance");
    call.body = format!(r#"{{"message": "{}"}}"#, "a".repeat(5000));
    let reply = web.send(call).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_request");
    env.stop().await;
}

#[tokio::test]
async fn a_malformed_request_context_is_refused_and_a_missing_one_replaced() {
    let env = TestEnv::start().await;
    let web = env.web_app();
    let token = env.token(&web, ALICE);

    let mut call = web.call(&token, "hello");
    call.context = Some("rid=\"x\", tp=\"y\"".to_owned());
    let reply = web.send(call).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_request");
    assert!(reply.header("x-request-id").is_some());

    let mut call = web.call(&token, "hello");
    call.context = None;
    let reply = web.send(call).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let request_id = reply.header("x-request-id").unwrap();
    assert!(request_id.len() >= 8, "{request_id}");
    env.stop().await;
}
