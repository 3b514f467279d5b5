//! What is SQLite's own: WAL mode, a busy timeout, one writer connection taking the
//! write lock up front (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing
//! on a stale read snapshot; migrations under that lock.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::StoreError;
use crate::config::Config;

#[derive(Clone)]
pub struct Pools {
    pub read: SqlitePool,
    /// One connection for write transactions: SQLite takes one writer at a time anyway,
    /// and queueing here (fairly, in order) beats its busy handler, which sleeps in
    /// growing steps and gave refreshes a half-second tail under load.
    writer: SqlitePool,
}

/// SQLITE_BUSY or SQLITE_LOCKED (primary result codes 5 and 6, with any extension).
fn is_locked(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
            || d.message().contains("database is locked")
    })
}

pub async fn connect(config: &Config) -> Result<Pools, StoreError> {
    if let Some(path) = config.sqlite_path().filter(|_| !config.database_url.contains("mode=ro")) {
        create_private(Path::new(path));
    }
    let options = SqliteConnectOptions::from_str(&config.database_url)
        .map_err(|e| StoreError::Other(format!("AUTHENTICON_DATABASE_URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    // Each connection to `:memory:` is its own database: keep exactly one, forever.
    let in_memory = config.sqlite_path().is_none();
    let writer_options = options.clone();
    let pool_options = SqlitePoolOptions::new()
        .max_connections(if in_memory { 1 } else { config.db_pool_size })
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout((!in_memory).then_some(Duration::from_secs(600)))
        .max_lifetime((!in_memory).then_some(Duration::from_secs(3600)))
        .acquire_timeout(config.db_acquire_timeout);
    // Instances starting together on a new file race to switch it to WAL, and SQLite
    // answers the loser "database is locked" at once, without waiting in its busy
    // handler. The first connection is retried for a while.
    let mut attempt = 0u64;
    let read = loop {
        match pool_options.clone().connect_with(options.clone()).await {
            Ok(pool) => break pool,
            Err(e) if attempt < 10 && is_locked(&e) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    // In memory there is one database per connection: writes must share the pool's.
    let writer = if in_memory {
        read.clone()
    } else {
        SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(config.db_acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(600)))
            .connect_lazy_with(writer_options)
    };
    Ok(Pools { read, writer })
}

/// A new database file is made readable by its owner only: it holds password hashes and
/// sealed keys. SQLite gives the `-wal` and `-shm` files it makes beside it the same mode.
/// Best effort: where this fails (no such folder), SQLite's own error says why.
fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // An existing file (the usual case) is left as it is.
    let _ = options.open(path);
}

pub async fn begin_write(pools: &Pools) -> Result<Transaction<'static, Sqlite>, StoreError> {
    Ok(pools.writer.begin_with("BEGIN IMMEDIATE").await?)
}

/// sqlx takes no lock on SQLite, so instances starting together on one file could each
/// apply the same migration; holding the write lock around the migrator makes the others
/// wait and then find it applied.
pub async fn migrate(pools: &Pools) -> Result<(), StoreError> {
    let mut tx = begin_write(pools).await?;
    sqlx::migrate!("src/store/migrations/sqlite").run_direct(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
