//! PostgreSQL store, for many instances sharing one database. Rotation locks the token's
//! row (`SELECT … FOR UPDATE`), so of concurrent rotations on any number of instances
//! exactly one spends the token. Migrations run under sqlx's advisory lock, so instances
//! starting together apply them once.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::sql::{escape_like, impl_sql_store, TokenState};
use super::*;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(config: &Config) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(&config.database_url)
            .map_err(|e| StoreError::Other(format!("AUTHENTICON_DATABASE_URL: {e}")))?
            .application_name("authenticon");
        // Lazy: the service starts (and /healthz answers) while the database is still
        // coming up; the first query waits for it up to the acquire timeout.
        let pool = PgPoolOptions::new()
            .max_connections(config.db_pool_size)
            .acquire_timeout(config.db_acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(600)))
            .max_lifetime(Some(Duration::from_secs(1800)))
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// sqlx holds a PostgreSQL advisory lock while it migrates: concurrent starters wait.
    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("src/store/migrations/postgres").run(&self.pool).await?;
        Ok(())
    }
}

impl_sql_store!(PgStore, Postgres, sqlx::PgConnection, row_lock = " FOR UPDATE OF rt");
