//! The chat API: `POST /v1/chat` ([`chat`]), its failures ([`Failure`], with the status and
//! `error` of each) and the timeline it returns ([`Timeline`]).

mod failure;
mod handler;
mod timeline;

pub use failure::{FailedChat, Failure};
pub use handler::{ChatState, chat};
pub use timeline::Timeline;
