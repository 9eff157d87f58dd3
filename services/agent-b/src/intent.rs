//! Step 13: what the customer asked for. A small deterministic chatbot: keyword intent
//! detection, so the same message always takes the same path and a test can say which.
//!
//! The message is lower-cased and split into words (runs of letters and digits). The first word,
//! in message order, that names account data decides the intent:
//!
//! | intent | words |
//! |---|---|
//! | balance (Agent A) | `balance`, `balances`, `money`, `funds` |
//! | orders (Agent A) | `order`, `orders`, `ordered`, `purchase`, `purchases`, `bought`, `delivery`, `deliveries`, `shipping`, `shipped`, `package`, `parcel` |
//! | profile (Agent A) | `profile`, `email`, `mail`, `member`, `membership`, `details` |
//!
//! A message without any of them is answered here, without Agent A, and steps 13–21 of its
//! timeline say they were not needed:
//!
//! | local answer | when the message contains |
//! |---|---|
//! | help | `help`, `commands`, `options`, or `what can you do` |
//! | thanks | `thanks`, `thank`, `thx`, `cheers` |
//! | greeting | `hello`, `hi`, `hey`, `hiya`, `greetings`, `morning`, `afternoon`, `evening` |
//! | not understood | anything else (the answer lists what the chatbot can do) |
//!
//! Account words win over the others: "hi, what is my balance?" asks for the balance. The
//! message is only ever matched against these lists; it never chooses whose data is read (that
//! is the verified transaction token's job, downstream).

use wire::Intent;

const BALANCE: &[&str] = &["balance", "balances", "money", "funds"];
const ORDERS: &[&str] = &[
    "order",
    "orders",
    "ordered",
    "purchase",
    "purchases",
    "bought",
    "delivery",
    "deliveries",
    "shipping",
    "shipped",
    "package",
    "parcel",
];
const PROFILE: &[&str] = &[
    "profile",
    "email",
    "mail",
    "member",
    "membership",
    "details",
];
const HELP: &[&str] = &["help", "commands", "options"];
const THANKS: &[&str] = &["thanks", "thank", "thx", "cheers"];
const GREETINGS: &[&str] = &[
    "hello",
    "hi",
    "hey",
    "hiya",
    "greetings",
    "morning",
    "afternoon",
    "evening",
];

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The answer needs the customer's account data from Agent A.
    Account(Intent),
    /// The chatbot answers by itself.
    Local(LocalReply),
}

/// The answers the chatbot gives without account data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalReply {
    Greeting,
    Help,
    Thanks,
    NotUnderstood,
}

impl LocalReply {
    /// The answer's text.
    pub fn answer(self) -> &'static str {
        match self {
            Self::Greeting => {
                "Hello! I can tell you your account balance, your recent orders or the details \
                 of your profile. What would you like to know?"
            }
            Self::Help => {
                "I can answer questions about your balance (\"What is my balance?\"), your orders \
                 (\"Show my recent orders\") and your profile (\"What email do you have for \
                 me?\")."
            }
            Self::Thanks => "You're welcome! Anything else I can look up for you?",
            Self::NotUnderstood => {
                "Sorry, I did not understand that. I can tell you your balance, your recent \
                 orders or the details of your profile."
            }
        }
    }

    /// Why no account data was needed, for the skipped steps of the timeline.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Greeting => "a greeting, answered by Agent B without account data",
            Self::Help => "a request for help, answered by Agent B without account data",
            Self::Thanks => "thanks, answered by Agent B without account data",
            Self::NotUnderstood => {
                "no account data asked for; Agent B answered with what it can do"
            }
        }
    }
}

/// Decides what `message` needs.
pub fn classify(message: &str) -> Reply {
    let lower = message.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();

    let account = words.iter().find_map(|word| {
        if BALANCE.contains(word) {
            Some(Intent::Balance)
        } else if ORDERS.contains(word) {
            Some(Intent::Orders)
        } else if PROFILE.contains(word) {
            Some(Intent::Profile)
        } else {
            None
        }
    });
    if let Some(intent) = account {
        return Reply::Account(intent);
    }

    let has = |list: &[&str]| words.iter().any(|word| list.contains(word));
    let asks_what_it_can_do = words.windows(4).any(|w| w == ["what", "can", "you", "do"]);
    Reply::Local(if has(HELP) || asks_what_it_can_do {
        LocalReply::Help
    } else if has(THANKS) {
        LocalReply::Thanks
    } else if has(GREETINGS) {
        LocalReply::Greeting
    } else {
        LocalReply::NotUnderstood
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_questions_go_to_agent_a() {
        for (message, intent) in [
            ("What is my balance?", Intent::Balance),
            ("How much MONEY do I have", Intent::Balance),
            ("Show my recent orders", Intent::Orders),
            ("where is my parcel?", Intent::Orders),
            ("What email do you have for me?", Intent::Profile),
            ("profile", Intent::Profile),
            ("Hi! What's my balance?", Intent::Balance),
            // The first account word decides.
            ("my orders and my balance", Intent::Orders),
        ] {
            assert_eq!(classify(message), Reply::Account(intent), "{message}");
        }
    }

    #[test]
    fn everything_else_is_answered_locally() {
        for (message, reply) in [
            ("Hello", LocalReply::Greeting),
            ("hey there", LocalReply::Greeting),
            ("Good morning!", LocalReply::Greeting),
            ("help", LocalReply::Help),
            ("Hi, what can you do?", LocalReply::Help),
            ("thanks!", LocalReply::Thanks),
            ("What is the weather like?", LocalReply::NotUnderstood),
            // Words, not substrings: "this" is not "hi", "borders" is not "orders".
            ("this", LocalReply::NotUnderstood),
            ("no borders here", LocalReply::NotUnderstood),
        ] {
            assert_eq!(classify(message), Reply::Local(reply), "{message}");
        }
    }

    #[test]
    fn every_local_reply_has_an_answer_and_a_reason() {
        for reply in [
            LocalReply::Greeting,
            LocalReply::Help,
            LocalReply::Thanks,
            LocalReply::NotUnderstood,
        ] {
            assert!(!reply.answer().is_empty());
            assert!(reply.reason().contains("Agent B"));
        }
    }
}
