//! Sending: every delivery whose turn has come, endpoints side by side; one attempt each,
//! signed per its endpoint's format; what came of it, for the log and the retry schedule.

use std::sync::Arc;

use tracing::warn;

use super::{literal_ip, network, signing, Webhooks, CLAIM, LEASE_SECONDS, RETRY_AFTER, SET_TYP};
use crate::crypto::open;
use crate::domain::Secret;
use crate::store::{AttemptOutcome, DueDelivery};

impl Webhooks {
    /// Sends every delivery whose turn has come, endpoints side by side: as soon as one
    /// attempt ends, the next due delivery (of its endpoint or another) goes out, so a slow
    /// receiver holds up only its own.
    pub(super) async fn send_due(self: &Arc<Self>) {
        // Each attempt is a task of its own: one that holds the store's writer (recording
        // its outcome) must go on while this loop waits to claim, or the two wait on
        // each other.
        let mut flying = tokio::task::JoinSet::new();
        loop {
            // Not after shutdown began: what was claimed is finished, nothing more is.
            if !self.tasks.is_closed() && flying.len() < CLAIM as usize {
                let now = self.clock.now();
                let room = CLAIM - flying.len() as i64;
                match self.store.claim_webhook_deliveries(now, now + LEASE_SECONDS, room).await {
                    Ok(due) => {
                        for d in due {
                            let webhooks = Arc::clone(self);
                            flying.spawn(async move { webhooks.deliver(d).await });
                        }
                    }
                    Err(e) => warn!(error = %e, "could not read the webhook deliveries"),
                }
            }
            if flying.join_next().await.is_none() {
                return;
            }
        }
    }

    async fn deliver(&self, d: DueDelivery) {
        // A Security Event Token is signed with the published key, not the secret.
        let secret = match d.format.as_str() {
            "set" => Ok(Secret::new("")),
            _ => open(&d.secret_sealed, &self.sealing),
        };
        let attempt = match secret {
            Ok(secret) => self.post(&d, &secret).await,
            // Sealed under another secret key (changed since): no one can sign it.
            Err(e) => Attempt::failed(format!("the endpoint's secret cannot be opened: {e}")),
        };
        let (status, error) = (attempt.status, attempt.error);
        let now = self.clock.now();
        let outcome = match status {
            Some(s) if (200..300).contains(&s) => AttemptOutcome::Delivered,
            Some(s) if (400..500).contains(&s) && s != 408 && s != 429 => AttemptOutcome::Dead,
            // An address no delivery may reach: trying again cannot help.
            _ if attempt.refused => AttemptOutcome::Dead,
            _ => match RETRY_AFTER.get(usize::try_from(d.attempts).unwrap_or(usize::MAX)) {
                Some(pause) => AttemptOutcome::RetryAt(now + pause),
                None => AttemptOutcome::Dead,
            },
        };
        let label = match outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Dead => "dead",
            AttemptOutcome::RetryAt(_) => "retry",
        };
        metrics::counter!("authenticon_webhook_deliveries_total", "outcome" => label).increment(1);
        if outcome != AttemptOutcome::Delivered {
            warn!(endpoint = %d.endpoint_id, delivery = %d.id, status = ?status, %error, outcome = label, "webhook not delivered");
        }
        if let Err(e) = self.store.record_webhook_attempt(&d.id, now, status, &error, outcome).await {
            warn!(error = %e, "could not record a webhook attempt; its lease will free it");
        }
    }

    /// One attempt.
    async fn post(&self, d: &DueDelivery, secret: &Secret) -> Attempt {
        if let Some(ip) = literal_ip(&d.url).filter(|ip| !self.guard.permits(*ip)) {
            return Attempt { refused: true, ..Attempt::failed(format!("{ip} is an internal address")) };
        }
        // The receiver compares the time with its own clock: the wall clock's.
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.as_secs());
        let request = match d.format.as_str() {
            "set" => match self.security_event_token(d, timestamp) {
                // RFC 8935 §2: the SET is the body; the receiver answers 202.
                Ok(set) => self
                    .http
                    .post(&d.url)
                    .header("content-type", "application/secevent+jwt")
                    .header("accept", "application/json")
                    .body(set),
                Err(e) => return Attempt::failed(e),
            },
            _ => match signing::sign(secret.expose(), &d.id, timestamp, &d.payload) {
                Ok(signature) => self
                    .http
                    .post(&d.url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &d.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(d.payload.clone()),
                Err(e) => return Attempt::failed(e),
            },
        };
        let sent = request.send().await;
        match sent {
            Ok(r) => Attempt {
                status: Some(i64::from(r.status().as_u16())),
                error: if r.status().is_success() {
                    String::new()
                } else {
                    format!("answered {}", r.status())
                },
                refused: false,
            },
            Err(e) => Attempt { refused: network::refused(&e), ..Attempt::failed(error_text(e)) },
        }
    }
}

impl Webhooks {
    /// The delivery's claims with `iat` and `jti` (the delivery's id, the same on every
    /// attempt), signed with the published key.
    fn security_event_token(&self, d: &DueDelivery, iat: u64) -> Result<String, String> {
        let mut claims: serde_json::Value = serde_json::from_str(&d.payload).map_err(|e| e.to_string())?;
        claims["iat"] = iat.into();
        claims["jti"] = d.id.clone().into();
        // One receiver's token is not another's to replay (RFC 8417 §4.5).
        // (The receiver's origin: a URL may carry a token in its path or query.)
        let origin =
            url::Url::parse(&d.url).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization());
        claims["aud"] = origin.into();
        self.signer.sign(SET_TYP, &claims)
    }
}

/// How one attempt went: the receiver's HTTP status, or why there was none.
struct Attempt {
    status: Option<i64>,
    error: String,
    /// The address is one deliveries may not reach.
    refused: bool,
}

impl Attempt {
    fn failed(error: String) -> Self {
        Self { status: None, error, refused: false }
    }
}

/// The error and its causes, without the URL (it may carry a token in its query).
fn error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}
