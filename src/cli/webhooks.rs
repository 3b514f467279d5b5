//! `authenticon webhooks`: endpoints other systems hear from, as the operator.

use anyhow::anyhow;
use serde_json::json;

use super::{cli_client, field_errors_line, WebhooksCommand};
use crate::app::AppState;
use crate::domain::rfc3339;
use crate::notify::webhooks::{EndpointSpec, WebhookError, EVENT_TYPES};
use crate::store::AuditMeta;

fn webhook_error(e: WebhookError) -> anyhow::Error {
    match e {
        WebhookError::Fields(errors) => field_errors_line(&errors),
        WebhookError::NotFound => anyhow!("no such webhook (or no dead delivery by that id)"),
        other => anyhow!(other.to_string()),
    }
}

pub async fn run(state: &AppState, cmd: WebhooksCommand) -> anyhow::Result<()> {
    let audit = AuditMeta::client(cli_client());
    let webhooks = &state.webhooks;
    match cmd {
        WebhooksCommand::List => {
            for e in webhooks.list().await.map_err(webhook_error)? {
                let on = if e.enabled { "enabled" } else { "disabled" };
                println!("{}\t{on}\t{}\t{}", e.id, e.url, e.event_types().collect::<Vec<_>>().join(","));
            }
        }
        WebhooksCommand::EventTypes => {
            for (name, description) in EVENT_TYPES {
                println!("{name}\t{description}");
            }
        }
        WebhooksCommand::Add { url, events, description, format } => {
            let spec =
                EndpointSpec { url: Some(url), format, description, events: Some(events), enabled: None };
            let made = webhooks.create(spec, &audit).await.map_err(webhook_error)?;
            println!("{}", json!({ "id": made.endpoint.id, "secret": made.secret }));
        }
        WebhooksCommand::Enable { id, enabled } => {
            let spec = EndpointSpec { enabled: Some(enabled), ..Default::default() };
            webhooks.update(&id, spec, false, &audit).await.map_err(webhook_error)?;
            println!("Webhook {id} {}.", if enabled { "enabled" } else { "disabled" });
        }
        WebhooksCommand::RotateSecret { id } => {
            let rotated =
                webhooks.update(&id, EndpointSpec::default(), true, &audit).await.map_err(webhook_error)?;
            println!("{}", json!({ "id": id, "secret": rotated.secret }));
        }
        WebhooksCommand::Remove { id } => {
            webhooks.delete(&id, &audit).await.map_err(webhook_error)?;
            println!("Webhook {id} removed.");
        }
        WebhooksCommand::Deliveries { id, status } => {
            let page = webhooks.deliveries(&id, status.as_deref(), 0, 50).await.map_err(webhook_error)?;
            for d in page.rows {
                let last = d.last_status.map_or_else(|| "-".to_string(), |s| s.to_string());
                println!(
                    "{}\t{}\t{}\t{}\tattempts={}\tlast={last}\t{}",
                    d.id,
                    rfc3339(d.created_at),
                    d.event,
                    d.status,
                    d.attempts,
                    d.last_error
                );
            }
        }
        WebhooksCommand::Replay { id, delivery } => {
            let replayed = webhooks.replay(&id, delivery.as_deref(), &audit).await.map_err(webhook_error)?;
            println!("{replayed} replayed.");
        }
    }
    Ok(())
}
