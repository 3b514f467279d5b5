//! Telling people and systems what happened: the durable mail outbox, and the mails the
//! services send through it (links, security notices, theft alerts).

mod notices;
mod outbox;

pub use notices::{Notice, Notices};
pub use outbox::{Mail, MailError, Mailer, SendError};
