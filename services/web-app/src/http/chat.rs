//! `/chat`: the protected chat page (GET; design step 1 when there is no session) and the chat
//! action (POST; design steps 10, 11, 12 and 23).

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use telemetry::{RequestId, StepTimer};
use wire::chat::{ChatRequest, ChatResponse, InvalidMessage, MAX_MESSAGE_CHARS, TimelineStep};
use wire::{Program, StepRecord, steps};

use super::current;
use super::login::redirect_to_login;
use super::pages::{
    ChatPage, DataView, Exchange, ForbiddenPage, error_page, internal_error, render,
};
use super::{RequestMeta, paths};
use crate::agent_b::{AgentBError, ChatCall};
use crate::refresh::{self, RefreshError};
use crate::session::{Session, constant_time_eq};
use crate::state::{AppState, Shared};
use crate::timeline::{self, Timeline};

/// `GET /chat`. Without a session: step 1, then the login (step 2). With one: the chat form and
/// the login's timeline, or 403 when the customer is not entitled to the chat.
pub async fn page(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Response {
    let request_id = meta.request_id();
    let timer = StepTimer::start(Program::WebApp, steps::PROTECTED_PAGE_REQUESTED, request_id);
    let session = match current::session(&state, &headers).await {
        Ok(session) => session,
        Err(error) => {
            timer.failed("session cookie", &error.to_string());
            return internal_error(request_id.as_str(), &error);
        }
    };
    let Some(session) = session else {
        let step1 = timer.ok_with_detail("session cookie", "no session: sign-in needed");
        return redirect_to_login(&state, &meta, step1).await;
    };
    timer.ok_with_detail("session cookie", "session found");
    if check_entitlement(&session, request_id).is_none() {
        return forbidden(&session, request_id);
    }
    let timeline = Timeline::build(&session.login_steps, 1..=1);
    render(
        StatusCode::OK,
        &ChatPage {
            request_id: request_id.as_str(),
            user: Some(current::user_view(&session)),
            csrf_token: session.csrf_token.expose(),
            max_chars: MAX_MESSAGE_CHARS,
            draft: "",
            form_error: None,
            exchange: None,
            timeline_title: "How you were signed in",
            timeline_request_id: &session.login_request_id,
            login_request_id: None,
            timeline,
        },
    )
}

/// The chat form.
#[derive(Debug, Deserialize)]
pub struct ChatForm {
    csrf_token: Option<String>,
    message: Option<String>,
}

/// `POST /chat`: steps 10 (CSRF), 11 (`chatbot:access`), 12 (Agent B) and 23 (the answer).
pub async fn post(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    form: Result<Form<ChatForm>, FormRejection>,
) -> Response {
    let request_id = meta.request_id().clone();
    let timer = StepTimer::start(Program::WebApp, steps::CHAT_ACTION_POSTED, &request_id);
    let session = match current::session(&state, &headers).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            timer.rejected("session and CSRF token", "no session");
            // The chat page starts the login; the message is not kept for after it.
            return Redirect::to(paths::CHAT).into_response();
        }
        Err(error) => {
            timer.failed("session and CSRF token", &error.to_string());
            return internal_error(request_id.as_str(), &error);
        }
    };
    let user = Some(current::user_view(&session));
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            // The rejection's text can quote the body; the log says what kind it was.
            tracing::debug!(status = %rejection.status(), "chat form refused");
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                // Over `MAX_FORM_BYTES`: a browser sending this page's form (500 characters at
                // most) never gets here, so it is said as the status it is, 413, not as a
                // malformed form.
                timer.rejected("session and CSRF token", "the form body is too large");
                return error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    request_id.as_str(),
                    user,
                    "The message is too long",
                    &format!(
                        "The message was not sent: the form was larger than this page ever sends. Please keep your message to {MAX_MESSAGE_CHARS} characters."
                    ),
                    true,
                );
            }
            timer.rejected(
                "session and CSRF token",
                "the body is not a URL-encoded form with each field once",
            );
            return error_page(
                StatusCode::BAD_REQUEST,
                request_id.as_str(),
                user,
                "The message could not be read",
                "The form was not sent as this page sends it. Please go back to the chat and try again.",
                true,
            );
        }
    };
    // Synchronizer token: the form of this session's page carries it, another site's cannot.
    let csrf_ok = form.csrf_token.as_deref().is_some_and(|sent| {
        constant_time_eq(sent.as_bytes(), session.csrf_token.expose().as_bytes())
    });
    if !csrf_ok {
        timer.rejected(
            "session and CSRF token",
            "CSRF token missing or not this session's",
        );
        return error_page(
            StatusCode::FORBIDDEN,
            request_id.as_str(),
            user,
            "This form has expired",
            "The message was not sent: the form did not come from your current chat page. Open the chat again and resend it.",
            true,
        );
    }
    let draft = form.message.unwrap_or_default();
    let checked = ChatRequest {
        message: draft.clone(),
    }
    .checked_message()
    .map(str::to_owned);
    let message = match checked {
        Ok(message) => message,
        Err(invalid) => {
            timer.rejected("session and CSRF token", &invalid.to_string());
            return form_refused(&session, &request_id, &draft, invalid);
        }
    };
    let step10 = timer.ok_with_detail("session and CSRF token", "synchronizer token matches");

    let Some(step11) = check_entitlement(&session, &request_id) else {
        return forbidden(&session, &request_id);
    };

    let session = match refresh::fresh(&state, session, &request_id).await {
        Ok(session) => session,
        Err(error) => return refresh_failed(&state, &request_id, error),
    };
    let mut records: Vec<StepRecord> = vec![step10, step11];
    let (exchange, downstream, status) =
        call_agent_b(&state, &session, &meta, &message, &mut records).await;

    let mut timeline_steps: Vec<TimelineStep> = session.login_steps.clone();
    timeline_steps.extend(records.iter().filter_map(timeline::own));
    timeline_steps.extend(timeline::downstream(downstream));
    let timer = StepTimer::start(Program::WebApp, steps::ANSWER_SHOWN, &request_id);
    let step23 = if exchange.answer.is_some() {
        timer.ok("answer and timeline rendered")
    } else {
        timer.ok_with_detail(
            "answer and timeline rendered",
            "no answer: the problem is shown",
        )
    };
    timeline_steps.extend(timeline::own(&step23));
    render(
        status,
        &ChatPage {
            request_id: request_id.as_str(),
            user: Some(current::user_view(&session)),
            csrf_token: session.csrf_token.expose(),
            max_chars: MAX_MESSAGE_CHARS,
            draft: "",
            form_error: None,
            exchange: Some(exchange),
            timeline_title: "What happened, step by step",
            timeline_request_id: request_id.as_str(),
            login_request_id: Some(&session.login_request_id),
            timeline: Timeline::build(&timeline_steps, 1..=5),
        },
    )
}

/// Step 11: the session's token carries `chatbot:access` (as granted in the token response).
/// `None` when it does not.
fn check_entitlement(session: &Session, request_id: &RequestId) -> Option<StepRecord> {
    let timer = StepTimer::start(Program::WebApp, steps::CHAT_SCOPE_CHECKED, request_id);
    if session.tokens.has_scope(wire::scopes::CHATBOT_ACCESS) {
        return Some(timer.ok_with_detail("chatbot:access scope", "granted by the IAM"));
    }
    timer.rejected(
        "chatbot:access scope",
        "the IAM did not grant chatbot:access",
    );
    None
}

/// A customer without `chatbot:access` gets a 403 page that says so, never a redirect to the
/// login (which would only come back here: a loop).
fn forbidden(session: &Session, request_id: &RequestId) -> Response {
    render(
        StatusCode::FORBIDDEN,
        &ForbiddenPage {
            request_id: request_id.as_str(),
            user: Some(current::user_view(session)),
            missing_scope: wire::scopes::CHATBOT_ACCESS,
        },
    )
}

/// Step 12, and what the customer is told of its outcome.
async fn call_agent_b(
    state: &Shared,
    session: &Session,
    meta: &RequestMeta,
    message: &str,
    records: &mut Vec<StepRecord>,
) -> (Exchange, Vec<TimelineStep>, StatusCode) {
    const CHECK: &str = "Agent B called over mTLS with the DPoP-bound token";
    let timer = StepTimer::start(
        Program::WebApp,
        steps::CUSTOMER_TOKEN_VALIDATED,
        meta.request_id(),
    );
    let mut exchange = Exchange {
        question: message.to_owned(),
        answer: None,
        problem: None,
        data: None,
    };
    let key = match state.dpop_keys.get(session, &state.clock) {
        Ok(key) => key,
        Err(error) => {
            records.push(timer.failed(CHECK, &error.to_string()));
            tracing::error!(%error, "the session's DPoP key is unusable");
            exchange.problem = Some(
                "Something went wrong on our side. Please sign out and sign in again.".to_owned(),
            );
            return (exchange, Vec::new(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let call = ChatCall {
        message,
        access_token: session.tokens.access_token.expose(),
        key: &key,
        context: &meta.context,
    };
    match state.agent_b.chat(&call).await {
        Ok(response) => {
            records.push(timer.ok_with_detail(
                CHECK,
                "Agent B's SPIFFE ID verified; proof with htm, htu, ath",
            ));
            let ChatResponse {
                answer,
                data,
                steps,
            } = response;
            exchange.answer = Some(answer);
            match data {
                Some(data) if data.subject == session.subject => {
                    exchange.data = Some(DataView::from(&data));
                }
                Some(_) => {
                    // Agent A and Service A2 read the customer from the transaction token made
                    // from this session's token; records of someone else mean a fault upstream,
                    // and they are not shown.
                    tracing::error!(subject = %session.subject, "Agent B returned another customer's records; withheld");
                    exchange.answer = None;
                    exchange.problem = Some(
                        "The answer could not be shown. The problem has been logged.".to_owned(),
                    );
                    return (exchange, steps, StatusCode::BAD_GATEWAY);
                }
                None => {}
            }
            (exchange, steps, StatusCode::OK)
        }
        Err(error) => {
            let reason = error.to_string();
            let (status, problem, security) = describe(&error);
            if security {
                records.push(timer.rejected(CHECK, &reason));
            } else {
                records.push(timer.failed(CHECK, &reason));
            }
            tracing::warn!(%reason, "the chat call failed");
            exchange.problem = Some(problem.to_owned());
            let steps = match error {
                AgentBError::Refused { error, .. } => error.steps,
                _ => Vec::new(),
            };
            (exchange, steps, status)
        }
    }
}

/// The page status, the customer's message, and whether Agent B refused for a security reason.
fn describe(error: &AgentBError) -> (StatusCode, &'static str, bool) {
    match error {
        AgentBError::Refused { status, error } => match (status.as_u16(), error.error.as_str()) {
            (401, _) => (
                StatusCode::BAD_GATEWAY,
                "The assistant could not verify your sign-in. Please sign out and sign in again.",
                true,
            ),
            (403, _) => (
                StatusCode::FORBIDDEN,
                "Your account is not allowed to use the assistant for this.",
                true,
            ),
            (404, _) => (
                StatusCode::NOT_FOUND,
                "We could not find any account data for you.",
                false,
            ),
            (503, _) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Your account data is unavailable right now. Please try again in a few minutes.",
                false,
            ),
            (400, _) => (
                StatusCode::BAD_REQUEST,
                "The assistant could not understand the request. Please rephrase your message.",
                false,
            ),
            _ => (
                StatusCode::BAD_GATEWAY,
                "The assistant could not get an answer from the account service. Please try again.",
                false,
            ),
        },
        AgentBError::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "The assistant took too long to answer. Please try again.",
            false,
        ),
        AgentBError::Unreachable(_) => (
            StatusCode::BAD_GATEWAY,
            "The assistant is not reachable right now. Please try again in a few minutes.",
            false,
        ),
        AgentBError::Status(_) | AgentBError::BadResponse(_) => (
            StatusCode::BAD_GATEWAY,
            "The assistant sent an answer that could not be read. Please try again.",
            false,
        ),
        AgentBError::Proof(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Please try again.",
            false,
        ),
    }
}

/// A refused message: the chat page again, with the message and what is wrong with it.
fn form_refused(
    session: &Session,
    request_id: &RequestId,
    draft: &str,
    invalid: InvalidMessage,
) -> Response {
    let form_error = match invalid {
        InvalidMessage::Empty => "Please type a message.".to_owned(),
        InvalidMessage::TooLong => {
            format!("Please keep your message to {MAX_MESSAGE_CHARS} characters.")
        }
        InvalidMessage::ControlCharacters => {
            "Your message contains characters that cannot be sent.".to_owned()
        }
    };
    // Back to the form, without the invisible characters a browser would not display.
    let draft: String = draft
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .take(MAX_MESSAGE_CHARS)
        .collect();
    render(
        StatusCode::BAD_REQUEST,
        &ChatPage {
            request_id: request_id.as_str(),
            user: Some(current::user_view(session)),
            csrf_token: session.csrf_token.expose(),
            max_chars: MAX_MESSAGE_CHARS,
            draft: &draft,
            form_error: Some(form_error),
            exchange: None,
            timeline_title: "How you were signed in",
            timeline_request_id: &session.login_request_id,
            login_request_id: None,
            timeline: Timeline::build(&session.login_steps, 1..=1),
        },
    )
}

fn refresh_failed(state: &Shared, request_id: &RequestId, error: RefreshError) -> Response {
    match error {
        RefreshError::Ended(_) => {
            // Not 401: that status promises an HTTP authentication challenge, and the way back
            // is the login link on this page.
            let mut response = error_page(
                StatusCode::OK,
                request_id.as_str(),
                None,
                "Your session has ended",
                "For your security you have been signed out. Please sign in again; your message was not sent.",
                true,
            );
            if let Some(cookie) = state.cookies.clear_session() {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        RefreshError::Unavailable(error) => {
            tracing::warn!(%error, "no usable access token");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                request_id.as_str(),
                None,
                "Sign-in service unavailable",
                "Your sign-in could not be renewed because the identity provider cannot be reached. Please try again in a few minutes.",
                true,
            )
        }
        RefreshError::Store(error) => internal_error(request_id.as_str(), &error),
    }
}
