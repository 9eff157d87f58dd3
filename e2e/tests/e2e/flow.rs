//! The 23 steps, end to end: alice logs in through the real forms, asks for her balance, sees
//! her records and not bob's, and every program's step events show steps 1–23 in order. The
//! trace is written to `target/e2e/flow-trace.json`.

use std::time::UNIX_EPOCH;

use e2e::Program;
use e2e::kit::{Login, TestEnv, TimedStep, timeline, write_trace};
use http::StatusCode;
use telemetry::StepEvent;
use wire::Outcome;
use wire::steps::{self, Step};

use e2e::kit::DemoRecords;

/// The login's steps that happen between the browser and the external IAM.
const AT_THE_IAM: [Step; 3] = [
    steps::CUSTOMER_SIGNS_IN,
    steps::CREDENTIALS_VERIFIED,
    steps::AUTHORIZATION_CODE_ISSUED,
];

#[tokio::test]
async fn alice_logs_in_asks_for_her_balance_and_all_23_steps_happen_in_order() {
    let env = TestEnv::start().await;
    let browser = env.browser();
    let login = browser.login("alice").await;
    let answer = browser.chat("What is my balance?").await;
    answer.assert_status(StatusCode::OK, "the chat answer");
    let request_id = answer.request_id();

    // Her records, from Service A2's demo data, and nothing of bob's.
    let records = DemoRecords::shipped();
    let alice = records.account_of("alice");
    let bob = records.account_of("bob");
    // Thousands separators are presentation; the amounts are the records.
    let shown = answer.body.replace(',', "");
    assert!(
        shown.contains(&alice.balance()),
        "alice's balance {} is not in the answer: {}",
        alice.balance(),
        answer.body
    );
    for bobs in bob.identifying_values() {
        assert!(
            !shown.contains(&bobs),
            "bob's {bobs:?} is in alice's answer"
        );
    }

    let events = env
        .wait_for_steps(|events| {
            performed_steps(&of_this_flow(events, &login, &request_id)).len() == 23
        })
        .await;
    let flow = of_this_flow(&events, &login, &request_id);
    // Every program's events of this login and this action, including the ones a program
    // reports about its side of another's step (the web app's call behind step 12, the external
    // IAM's token response of step 8), written before the assertions so a failing run leaves
    // its evidence.
    let path = env.target_dir().join("e2e").join("flow-trace.json");
    write_trace(&path, &timeline(flow.iter().map(|event| (*event).clone()))).unwrap();

    let performed = performed_steps(&flow);
    let found: Vec<u8> = performed.iter().map(|(step, _)| step.number()).collect();
    assert_eq!(
        found,
        (1..=23).collect::<Vec<u8>>(),
        "steps performed (trace in {})",
        path.display()
    );
    assert_in_order(&performed);
}

/// The events of this login and this chat action, from every program.
///
/// Which events belong:
/// - steps 10–23 are logged under the chat action's request id by every program, which pass it
///   along (`X-Request-Context`, gRPC metadata);
/// - steps 1, 2 and 6–9 are logged by the web app under the login's request id, and steps
///   7 and 8 by the external IAM under the same id, which the web app's token request carries;
/// - steps 3, 4 and 5 are the browser's own requests to the external IAM: a browser sends no
///   request id, so the IAM logs them under ids of its own. They are this login's when the IAM
///   logged them between the first and the last request of this login (`login.started` to
///   `login.finished`): in this system only this login happens then, so no other login's events
///   can fall in the window. Nothing weaker (any step 3 at any time) is accepted.
fn of_this_flow<'a>(
    events: &'a [StepEvent],
    login: &Login,
    request_id: &str,
) -> Vec<&'a StepEvent> {
    let micros = |time: std::time::SystemTime| {
        time.duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap())
            .unwrap()
    };
    let window = micros(login.started)..=micros(login.finished);
    events
        .iter()
        .filter(|event| {
            let step = event.step;
            if step.number() >= 10 {
                event.request_id == request_id
            } else if AT_THE_IAM.contains(&step) {
                event.logged_by == Program::ExternalIam.name()
                    && e2e::kit::rfc3339_utc_micros(&event.timestamp)
                        .is_some_and(|at| window.contains(&at))
            } else {
                event.request_id == login.request_id
            }
        })
        .collect()
}

/// For each step of the catalogue, its events by its performer (the program that makes the
/// step's check) that passed: `ok`, or `cached` for the token steps Agent B serves from its
/// cache. Steps without such an event are left out.
fn performed_steps<'a>(flow: &[&'a StepEvent]) -> Vec<(Step, Vec<&'a StepEvent>)> {
    steps::ALL
        .iter()
        .filter_map(|step| {
            let performed: Vec<&StepEvent> = flow
                .iter()
                .copied()
                .filter(|event| event.step == *step)
                .filter(|event| event.service == step.performer().name())
                .filter(|event| matches!(event.outcome, Outcome::Ok | Outcome::Cached))
                .collect();
            (!performed.is_empty()).then_some((*step, performed))
        })
        .collect()
}

/// A step as a whole: from the first of its events' beginnings to the last of their ends
/// (step 3 is the login form and the password; steps 15 and 16 are the service token and the
/// transaction token).
struct Span {
    began_us: i64,
    ended_us: i64,
}

fn span(events: &[&StepEvent]) -> Span {
    let timed: Vec<TimedStep> = events
        .iter()
        .map(|event| TimedStep::new((*event).clone()).unwrap())
        .collect();
    Span {
        began_us: timed.iter().map(|t| t.began_us).min().unwrap(),
        ended_us: timed.iter().map(|t| t.ended_us).max().unwrap(),
    }
}

/// Each step comes after the one before it: it begins after the previous step began, or it
/// encloses the previous step. The second case is a caller's span around the call that performs
/// the previous step: the web app's step 8 ("tokens received; ID token validated") is timed
/// around its token request, during which the external IAM performs step 7. What is refused is
/// a step that begins before its predecessor without enclosing it.
fn assert_in_order(flow: &[(Step, Vec<&StepEvent>)]) {
    for pair in flow.windows(2) {
        let ((before, before_events), (after, after_events)) = (&pair[0], &pair[1]);
        let (a, b) = (span(before_events), span(after_events));
        let follows = b.began_us >= a.began_us;
        let encloses = b.began_us <= a.began_us && b.ended_us >= a.ended_us;
        assert!(
            follows || encloses,
            "step {} ({}–{} µs) is not after step {} ({}–{} µs)",
            after.number(),
            b.began_us,
            b.ended_us,
            before.number(),
            a.began_us,
            a.ended_us
        );
    }
}

/// The order check itself, on events made up for it: it must refuse what it is there to refuse.
mod order_check {
    use super::*;

    fn event(step: u32, service: &str, ended: &str, duration_ms: f64) -> StepEvent {
        let line = format!(
            r#"{{"timestamp":"2026-01-01T00:00:{ended}Z","level":"INFO","service":"{service}","target":"step","fields":{{"message":"m","step":{step},"request_id":"r","service":"{service}","outcome":"ok","duration_ms":{duration_ms},"check":"c"}},"spans":[]}}"#
        );
        StepEvent::from_json_line(&line).unwrap().unwrap()
    }

    fn check(events: &[StepEvent]) {
        assert_in_order(&performed_steps(&events.iter().collect::<Vec<_>>()));
    }

    #[test]
    fn accepts_a_step_enclosing_its_predecessor() {
        // The web app's step 8 (01.000–01.010) encloses the IAM's step 7 (01.002–01.005).
        check(&[
            event(6, "web-app", "00.900", 1.0),
            event(7, "external-iam", "01.005", 3.0),
            event(8, "web-app", "01.010", 10.0),
            event(9, "web-app", "01.020", 5.0),
        ]);
    }

    #[test]
    #[should_panic(expected = "step 8 (1767225601000000–1767225601004000 µs) is not after step 7")]
    fn refuses_a_step_that_began_before_its_predecessor() {
        check(&[
            event(7, "external-iam", "01.010", 5.0),
            event(8, "web-app", "01.004", 4.0),
        ]);
    }
}
