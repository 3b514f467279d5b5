//! `authenticon keys`: signing keys of the asymmetric algorithms.

use anyhow::{anyhow, bail};

use super::KeysCommand;
use crate::app::AppState;
use crate::config::JwtAlgorithm;
use crate::domain::rfc3339;

pub async fn run(state: &AppState, cmd: KeysCommand) -> anyhow::Result<()> {
    let tokens = &state.tokens;
    match cmd {
        KeysCommand::List => {
            let date = |t: Option<i64>| t.map(rfc3339).unwrap_or_else(|| "-".into());
            for k in tokens.list_keys().await? {
                println!(
                    "{}\t{}\t{}\tcreated {}\tactivated {}\tretired {}",
                    k.kid,
                    k.algorithm,
                    k.status,
                    date(Some(k.created_at)),
                    date(k.activated_at),
                    date(k.retired_at)
                );
            }
        }
        KeysCommand::Generate { algorithm } => {
            let algorithm = match algorithm {
                Some(name) => JwtAlgorithm::parse(&name)
                    .filter(|a| !a.is_hmac())
                    .ok_or_else(|| anyhow!("--algorithm: expected RS256, ES256 or EdDSA, got {name:?}"))?,
                None if tokens.algorithm().is_hmac() => {
                    bail!(
                        "AUTHENTICON_JWT_ALGORITHM is {}: HMAC uses the secret, not keys; pass --algorithm",
                        tokens.algorithm().name()
                    )
                }
                None => tokens.algorithm(),
            };
            let key = tokens.generate_key(algorithm).await?;
            println!(
                "Key {} ({}) generated and published; activate it with: authenticon keys activate {}",
                key.kid, key.algorithm, key.kid
            );
        }
        KeysCommand::Activate { kid } => {
            tokens.activate_key(&kid).await?;
            println!("Key {kid} now signs new tokens; the previous key is retired.");
        }
        KeysCommand::Retire { kid } => {
            tokens.retire_key(&kid).await?;
            println!("Key {kid} retired; it verifies until its last token expires.");
        }
        KeysCommand::Revoke { kid } => {
            tokens.revoke_key(&kid).await?;
            println!(
                "Key {kid} revoked: tokens it signed no longer verify (on running instances within 30 s)."
            );
        }
    }
    Ok(())
}
