//! What is PostgreSQL's own: a lazy pool (the service starts while the database is still
//! coming up), migrations under sqlx's advisory lock (instances starting together apply
//! them once). Row locks (`FOR UPDATE`) serialise
//! concurrent changes of one row across instances; see `db::Backend`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::StoreError;
use crate::config::Config;

pub fn connect(config: &Config) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(&config.database_url)
        .map_err(|e| StoreError::Other(format!("AUTHENTICON_DATABASE_URL: {e}")))?
        .application_name("authenticon");
    // Lazy: the first query waits for the database up to the acquire timeout.
    Ok(PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        .acquire_timeout(config.db_acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(600)))
        .max_lifetime(Some(Duration::from_secs(1800)))
        .connect_lazy_with(options))
}

/// sqlx holds a PostgreSQL advisory lock while it migrates: concurrent starters wait.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("src/store/migrations/postgres").run(pool).await?;
    Ok(())
}
