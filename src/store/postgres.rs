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

/// A rotation's writes as one statement: PostgreSQL prepares one statement at a time,
/// but runs data-modifying CTEs together. Parameters as in the SQLite store's batch.
const ROTATE_SQL: &str = "\
    WITH spent AS (UPDATE refresh_tokens SET used_at = $1, used_ip = $10, used_user_agent = $11, replaced_by = $3 WHERE jti = $2 AND used_at IS NULL), \
    successor AS (INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES ($3, $4, $5, $6)), \
    extended AS (UPDATE sessions SET last_used_at = $1, expires_at = $6 WHERE id = $4) \
    INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
    VALUES ($1, $7, $8, (SELECT username FROM users WHERE id = $8), $9, $10, $11, $12)";

impl_sql_store!(
    PgStore,
    Postgres,
    sqlx::PgConnection,
    row_lock = " FOR UPDATE OF rt",
    mail_lock = " FOR UPDATE",
    rotate = ROTATE_SQL
);
