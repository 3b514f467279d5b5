//! `authenticon clients`: the applications that sign their users in here, as the
//! operator (unbounded).

use anyhow::anyhow;
use serde_json::json;

use super::{cli_client, field_errors_line, ClientArgs, ClientsCommand};
use crate::app::AppState;
use crate::auth::rbac::Actor;
use crate::oauth::{ClientError, ClientSpec};
use crate::store::{AuditMeta, ClientRow};

fn client_error(e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Invalid(errors) => field_errors_line(&errors),
        ClientError::NotFound => anyhow!("no such client"),
        other => anyhow!(other.to_string()),
    }
}

/// Options given replace; a list option not given keeps the list.
fn spec(args: ClientArgs, public: Option<bool>) -> ClientSpec {
    let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
    ClientSpec {
        name: args.name,
        public,
        redirect_uris: list(args.redirect_uris),
        post_logout_redirect_uris: list(args.post_logout_redirect_uris),
        grant_types: list(args.grants),
        scopes: list(args.scopes),
        permissions: list(args.permissions),
        pre_consented: args.pre_consented,
    }
}

fn describe(c: &ClientRow) -> serde_json::Value {
    json!({
        "client_id": c.id, "name": c.name, "public": c.is_public(), "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris, "grant_types": c.grant_types,
        "scopes": c.scopes, "permissions": c.permissions, "pre_consented": c.pre_consented,
    })
}

pub async fn run(state: &AppState, cmd: ClientsCommand) -> anyhow::Result<()> {
    let audit = AuditMeta::client(cli_client());
    let clients = &state.clients;
    match cmd {
        ClientsCommand::List => {
            for c in clients.list().await.map_err(client_error)? {
                let kind = if c.is_public() { "public" } else { "confidential" };
                println!("{}\t{}\t{kind}\t{}", c.id, c.name, c.grant_types.join(","));
            }
        }
        ClientsCommand::Create { spec: args, public } => {
            if args.name.is_none() {
                return Err(anyhow!("--name is required"));
            }
            let made = clients
                .create(Actor::Operator, spec(args, Some(public)), &audit)
                .await
                .map_err(client_error)?;
            let mut out = json!({ "client_id": made.client.id });
            if let Some(secret) = made.secret {
                out["client_secret"] = json!(secret);
            }
            println!("{out}");
        }
        ClientsCommand::Show { client_id } => {
            println!("{}", describe(&clients.get(&client_id).await.map_err(client_error)?));
        }
        ClientsCommand::Update { client_id, spec: args } => {
            let updated = clients
                .update(Actor::Operator, &client_id, spec(args, None), &audit)
                .await
                .map_err(client_error)?;
            println!("{}", describe(&updated));
        }
        ClientsCommand::RotateSecret { client_id } => {
            let rotated =
                clients.rotate_secret(Actor::Operator, &client_id, &audit).await.map_err(client_error)?;
            println!("{}", json!({ "client_id": client_id, "client_secret": rotated.secret }));
        }
        ClientsCommand::Delete { client_id } => {
            clients.delete(Actor::Operator, &client_id, &audit).await.map_err(client_error)?;
            println!("Client {client_id} deleted.");
        }
    }
    Ok(())
}
