//! Outgoing mail: SMTP through lettre when `AUTHENTICON_SMTP_URL` is set, otherwise
//! `.eml` files in a folder (with their links logged), so a development set-up needs no
//! mail server. Mails go out in the background: a request never waits on a mail server,
//! and a request for an unknown address takes the same time as one for a known address.
//!
//! Every mail goes through an outbox in the database first: a crash, a restart or a mail
//! server that is down for hours loses none. Each instance sends what is due (at once
//! when it queued the mail itself, otherwise within a few seconds), retrying with a
//! growing pause for a day. Delivery is at least once: an instance that dies after the
//! mail server took a mail but before it deleted it leaves the mail to be sent again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::file::AsyncFileTransport;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::Config;
use crate::crypto::{open, seal};
use crate::domain::{Clock, Fault, Secret};
use crate::store::{OutboxMail, Store};

/// One mail: plain text, with the one link it exists for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The action link in `body`; never logged.
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
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Seals queued mails, as signing keys are sealed.
    sealing: Secret,
    /// Wakes this instance's sender when it queues a mail.
    wake: Arc<Notify>,
    /// Mail work running in the background; a graceful shutdown waits for it.
    tasks: TaskTracker,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// Trying again cannot help: the mail server refused it for good (a 5xx answer, such
    /// as an unknown recipient), or it cannot be written at all.
    pub permanent: bool,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self { message, permanent: true }
    }

    fn transient(message: String) -> Self {
        Self { message, permanent: false }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("AUTHENTICON_SMTP_URL: {0}")]
    Smtp(String),
    #[error("AUTHENTICON_MAIL_FROM: {0}")]
    From(String),
}

/// How often each instance looks for due mails it was not woken for (queued by another
/// instance, or due again after a failure).
const POLL: Duration = Duration::from_secs(2);
/// How long an instance holds the mails it is sending; one that died meanwhile leaves
/// them to the others after this.
const LEASE_SECONDS: i64 = 60;
/// Mails claimed at a time.
const BATCH: i64 = 20;
/// The longest pause between two attempts, and when to give up on a mail.
const MAX_PAUSE_SECONDS: i64 = 300;
const GIVE_UP_AFTER_SECONDS: i64 = 24 * 3600;

/// Creates the mail folder (mode 0700 on Unix) if needed.
async fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await?;
    }
    Ok(())
}

/// Mode 0600 on Unix: a mail file holds a live link.
async fn private_file(file: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).await?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

impl Mailer {
    /// Whether mails go to files (no SMTP server configured): `serve` and `check` warn.
    pub fn writes_files(&self) -> bool {
        matches!(&*self.transport, Transport::Files { .. })
    }

    pub fn new(
        config: &Config,
        store: Arc<Store>,
        sealing: Secret,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, MailError> {
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
        Ok(Self {
            transport: Arc::new(transport),
            from,
            store,
            sealing,
            clock,
            wake: Arc::new(Notify::new()),
            tasks: TaskTracker::new(),
        })
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

    /// Sends what is due in the outbox until shutdown: at once when this instance queued
    /// a mail, and every few seconds for the rest. (Started by `serve`; one-off commands
    /// only queue, and a running instance sends.)
    pub fn start_outbox(&self) {
        let mailer = self.clone();
        tokio::spawn(async move {
            while !mailer.tasks.is_closed() {
                // Tracked, so that a shutdown waits for the mails being handed over.
                let batch = mailer.clone();
                let _ = mailer.tasks.spawn(async move { batch.send_due().await }).await;
                tokio::select! {
                    _ = mailer.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    /// At shutdown: waits up to `limit` for mails still being queued or sent, then sends
    /// what is due once more, so a reset link requested just before a restart arrives
    /// now rather than after it. True when all that finished in time.
    pub async fn drain(&self, limit: Duration) -> bool {
        self.tasks.close();
        if !self.tasks.is_empty() {
            info!(mails = self.tasks.len(), "waiting for mails still being sent");
        }
        let flush = async {
            self.tasks.wait().await;
            self.send_due().await;
        };
        tokio::time::timeout(limit, flush).await.is_ok()
    }

    /// Queues `mail` in the outbox and wakes the sender; failures are logged, never
    /// raised. With the database unreachable, the mail is sent straight away instead.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        self.spawn(async move {
            match mailer.enqueue(&mail).await {
                Ok(()) => mailer.wake.notify_one(),
                Err(e) => {
                    warn!(error = %e, "mail outbox unavailable; sending directly");
                    if let Err(e) = mailer.send(&mail).await {
                        // SECURITY: the body holds a live link; only the subject is logged.
                        warn!(error = %e, subject = %mail.subject, "mail not sent");
                    }
                }
            }
        });
    }

    async fn enqueue(&self, mail: &Mail) -> Result<(), Fault> {
        let json = serde_json::to_string(mail).map_err(|e| Fault::new("writing a mail", e))?;
        let sealed = seal(&Secret::new(json), &self.sealing).map_err(|e| Fault::new("sealing a mail", e))?;
        let id = uuid::Uuid::new_v4().to_string();
        let queued = self.store.enqueue_mail(&id, &sealed, self.clock.now()).await;
        queued.map_err(|e| Fault::new("queueing a mail", e))
    }

    /// Claims and sends due mails until none is left.
    async fn send_due(&self) {
        loop {
            let at = self.clock.now();
            let batch = match self.store.claim_mails(at, at + LEASE_SECONDS, BATCH).await {
                Ok(batch) if batch.is_empty() => return,
                Ok(batch) => batch,
                Err(e) => return warn!(error = %e, "could not read the mail outbox"),
            };
            for queued in batch {
                self.deliver(queued).await;
            }
        }
    }

    async fn deliver(&self, queued: OutboxMail) {
        let opened = open(&queued.sealed, &self.sealing).map_err(|e| Fault::new("opening a queued mail", e));
        let read = |m: Secret| {
            serde_json::from_str::<Mail>(m.expose()).map_err(|e| Fault::new("reading a queued mail", e))
        };
        let mail = match opened.and_then(read) {
            Ok(mail) => mail,
            Err(e) => {
                // Sealed under another secret (changed since), or damaged: no one can send it.
                warn!(error = %e, id = %queued.id, "unreadable mail in the outbox; dropped");
                metrics::counter!("authenticon_mails_total", "outcome" => "dropped").increment(1);
                return self.forget(&queued.id).await;
            }
        };
        let result = self.send(&mail).await;
        let at = self.clock.now();
        match result {
            Ok(()) => {
                metrics::counter!("authenticon_mails_total", "outcome" => "sent").increment(1);
                self.forget(&queued.id).await
            }
            Err(e) if e.permanent || at - queued.created_at >= GIVE_UP_AFTER_SECONDS => {
                // SECURITY: the body holds a live link; only the subject is logged.
                let why = if e.permanent { "refused for good" } else { "not sent for a day" };
                warn!(error = %e, subject = %mail.subject, attempts = queued.attempts + 1, "mail {why}; giving up");
                metrics::counter!("authenticon_mails_total", "outcome" => "dropped").increment(1);
                self.forget(&queued.id).await;
            }
            Err(e) => {
                metrics::counter!("authenticon_mails_total", "outcome" => "retry").increment(1);
                let pause = 1_i64
                    .checked_shl(queued.attempts.clamp(0, 30) as u32)
                    .unwrap_or(i64::MAX)
                    .min(MAX_PAUSE_SECONDS);
                warn!(error = %e, attempt = queued.attempts + 1, retry_in_s = pause, "mail not sent; will try again");
                if let Err(e) = self.store.retry_mail(&queued.id, at + pause, &e.message).await {
                    warn!(error = %e, "could not reschedule a mail; its lease will free it");
                }
            }
        }
    }

    async fn forget(&self, id: &str) {
        if let Err(e) = self.store.delete_mail(id).await {
            warn!(error = %e, "could not remove a mail from the outbox; it may be sent again");
        }
    }

    /// Sends now.
    pub async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let to = mail.to.parse::<Mailbox>().map_err(|e| SendError::permanent(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| SendError::permanent(e.to_string()))?;
        match &*self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError { permanent: e.is_permanent(), message: e.to_string() }),
            Transport::Files { transport, dir } => {
                private_dir(dir)
                    .await
                    .map_err(|e| SendError::transient(format!("{}: {e}", dir.display())))?;
                let id = transport.send(message).await.map_err(|e| SendError::transient(e.to_string()))?;
                let file = dir.join(format!("{id}.eml"));
                // SECURITY: the file holds a live link: readable by this user only, and the
                // link never goes to the log (logs travel further than a mail folder).
                private_file(&file)
                    .await
                    .map_err(|e| SendError::transient(format!("{}: {e}", file.display())))?;
                info!(subject = %mail.subject, file = %file.display(), "mail written to a file (no AUTHENTICON_SMTP_URL)");
                Ok(())
            }
        }
    }
}
