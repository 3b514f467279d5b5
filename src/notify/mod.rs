//! Telling people and systems what happened: the durable mail outbox, the mails the
//! services send through it (links, security notices, theft alerts), and webhooks.

mod notices;
mod outbox;
pub mod webhooks;

pub use notices::{Notice, Notices};
pub use outbox::{Mail, MailError, Mailer, SendError};
pub use webhooks::Webhooks;
