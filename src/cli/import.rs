//! `authenticon import-django`: users and groups from Django's dumpdata output.

use std::path::Path;

use anyhow::{anyhow, Context};

use super::cli_client;
use crate::app::AppState;
use crate::auth::import_django::{self, ImportOptions};
use crate::store::AuditMeta;

pub async fn import_django(
    state: &AppState,
    file: &Path,
    admin_group: bool,
    existing_roles: bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let audit = AuditMeta::client(cli_client());
    let options = ImportOptions { admin_group, existing_roles };
    let report = import_django::import_django(&state.store, &*state.clock, &text, &audit, options)
        .await
        .map_err(|e| anyhow!("{}: {e}", file.display()))?;
    for (line, reason) in &report.problems {
        eprintln!("{}:{line}: skipped: {reason}", file.display());
    }
    println!(
        "Imported from {}: {} user(s) created, {} updated, {} skipped; {} role(s) created from groups.",
        file.display(),
        report.created,
        report.updated,
        report.skipped,
        report.roles_created
    );
    Ok(())
}
