//! Outgoing mail: SMTP through lettre when `AUTHENTICON_SMTP_URL` is set, otherwise
//! `.eml` files in a folder (with their links logged), so a development set-up needs no
//! mail server. Mails go out in the background: a request never waits on a mail server,
//! and a request for an unknown address takes the same time as one for a known address.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::file::AsyncFileTransport;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::Config;

/// One mail: plain text, with the one link it exists for.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The action link in `body`; logged only when mails go to files.
    pub link: Option<String>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files { transport: AsyncFileTransport<Tokio1Executor>, dir: PathBuf },
}

#[derive(Clone)]
pub struct Mailer {
    transport: Arc<Transport>,
    from: Mailbox,
    /// Mail work running in the background; a graceful shutdown waits for it.
    tasks: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("AUTHENTICON_SMTP_URL: {0}")]
    Smtp(String),
    #[error("AUTHENTICON_MAIL_FROM: {0}")]
    From(String),
}

/// Attempts per mail, with a growing pause between them: a mail server restarting
/// loses no mail.
const ATTEMPTS: u32 = 4;

impl Mailer {
    pub fn new(config: &Config) -> Result<Self, MailError> {
        let from = config.mail_from.parse::<Mailbox>().map_err(|e| MailError::From(e.to_string()))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| MailError::Smtp(e.to_string()))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => {
                let dir = config.mail_dir();
                Transport::Files { transport: AsyncFileTransport::new(&dir), dir }
            }
        };
        Ok(Self { transport: Arc::new(transport), from, tasks: TaskTracker::new() })
    }

    /// Where mails go, for the start-up line.
    pub fn describe(&self) -> String {
        match &*self.transport {
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Runs mail work (a lookup, then a send) in the background, where `drain` finds it.
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(work);
    }

    /// At shutdown: waits up to `limit` for mails still being sent or retried, so a
    /// reset link requested just before a restart still arrives. True when none is left.
    pub async fn drain(&self, limit: Duration) -> bool {
        self.tasks.close();
        if !self.tasks.is_empty() {
            info!(mails = self.tasks.len(), "waiting for mails still being sent");
        }
        tokio::time::timeout(limit, self.tasks.wait()).await.is_ok()
    }

    /// Sends `mail` in the background, retrying; failures are logged, never raised.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        self.spawn(async move {
            let mut pause = Duration::from_millis(500);
            for attempt in 1..=ATTEMPTS {
                match mailer.send(&mail).await {
                    Ok(()) => return,
                    Err(e) if attempt == ATTEMPTS => {
                        // SECURITY: the body holds a live link; only the subject is logged.
                        warn!(error = %e, subject = %mail.subject, "mail not sent; giving up");
                    }
                    Err(e) => {
                        warn!(error = %e, attempt, "mail not sent; retrying");
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                }
            }
        });
    }

    /// Sends now.
    pub async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to = mail.to.parse::<Mailbox>().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| e.to_string())?;
        match &*self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Files { transport, dir } => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| format!("{}: {e}", dir.display()))?;
                let id = transport.send(message).await.map_err(|e| e.to_string())?;
                let file = dir.join(format!("{id}.eml"));
                // No mail server: the link is what a developer needs, so it is logged.
                info!(subject = %mail.subject, file = %file.display(), link = mail.link.as_deref().unwrap_or(""),
                    "mail written to a file (no AUTHENTICON_SMTP_URL)");
                Ok(())
            }
        }
    }
}
