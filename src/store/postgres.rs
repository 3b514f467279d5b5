//! What is PostgreSQL's own: a lazy pool (the service starts while the database is still
//! coming up), migrations under sqlx's advisory lock (instances starting together apply
//! them once), and the rotation as one statement. Row locks (`FOR UPDATE`) serialise
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

/// A rotation's writes as one statement: PostgreSQL prepares one statement at a time,
/// but runs data-modifying CTEs together. Parameters as in the SQLite store's batch.
pub const ROTATE_SQL: &str = "\
    WITH spent AS (UPDATE refresh_tokens SET used_at = $1, used_ip = $10, used_user_agent = $11, replaced_by = $3 WHERE jti = $2 AND used_at IS NULL), \
    successor AS (INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES ($3, $4, $5, $6)), \
    extended AS (UPDATE sessions SET last_used_at = $1, expires_at = $6 WHERE id = $4) \
    INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
    VALUES ($1, $7, $8, (SELECT username FROM users WHERE id = $8), $9, $10, $11, $12)";
