//! Persistence: SQLite (the default) and PostgreSQL behind one `Store`, so the services
//! never see which. One method per use case; each multi-step change is one transaction
//! inside its method. The store knows nothing of HTTP.
//!
//! Where things are: `rows.rs` holds what the methods take and return; `sql/<area>.rs`
//! holds an area's SQL and methods, written once for both backends (through `db.rs`);
//! `sqlite.rs` and `postgres.rs` hold only what differs (connecting, migrating, the one
//! statement that is not the same).

mod db;
mod group_commit;
mod postgres;
mod rows;
mod sql;
mod sqlite;

pub use rows::*;
pub use sql::QueryPlan;

use db::{Pooled, Tx};

use crate::config::Config;

pub use crate::domain::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or foreign-key rule refused the write; `constraint` names it.
    #[error("constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// The database cannot be reached or is overloaded: the caller answers 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite: 5 BUSY, 6 LOCKED, 517 BUSY_SNAPSHOT; PostgreSQL class 57/08: shutdown, connection.
                if matches!(code.as_str(), "5" | "6" | "261" | "517" | "773")
                    || code.starts_with("57")
                    || code.starts_with("08")
                {
                    return StoreError::Unavailable(db.message().to_string());
                }
                if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                    let constraint =
                        db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
                    return StoreError::Conflict { constraint };
                }
                StoreError::Other(e.to_string())
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => StoreError::Other(other.to_string()),
        }
    }
}

/// The database's connection pools.
#[derive(Clone)]
enum Pools {
    Sqlite(sqlite::Pools),
    Postgres(sqlx::PgPool),
}

/// What a bounded delete did: how many rows went, and how long it held the write lock.
#[derive(Debug, Clone, Copy)]
pub struct DeletedBatch {
    pub rows: u64,
    pub held: std::time::Duration,
}

/// The database, whichever it is. Cheap to share (`Arc<Store>`).
pub struct Store {
    pools: Pools,
    rotations: group_commit::RotationQueue,
    /// For the user search on PostgreSQL: the trigrams too common to search the index by.
    common_trigrams: sql::user_search::CommonTrigrams,
}

/// A write transaction on `pools`.
async fn begin_write(pools: &Pools) -> Result<Tx, StoreError> {
    Ok(match pools {
        Pools::Sqlite(p) => Tx::Sqlite(sqlite::begin_write(p).await?),
        Pools::Postgres(p) => Tx::Postgres(p.begin().await?),
    })
}

impl Store {
    /// Opens the store that `config.database_url` names (without migrating).
    pub async fn connect(config: &Config) -> Result<Self, StoreError> {
        let (pools, writers) = if config.database_url.starts_with("sqlite:") {
            (Pools::Sqlite(sqlite::connect(config).await?), 1)
        } else {
            // A few batches side by side, leaving most connections to reads.
            let writers = (config.db_pool_size as usize / 3).clamp(1, 4);
            (Pools::Postgres(postgres::connect(config)?), writers)
        };
        let rotations = group_commit::RotationQueue::start(pools.clone(), writers, config.rotation_batch);
        Ok(Self { pools, rotations, common_trigrams: Default::default() })
    }

    /// Applies pending migrations (safe to run on every start, from many instances).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite(p) => sqlite::migrate(p).await,
            Pools::Postgres(p) => postgres::migrate(p).await,
        }
    }

    /// Cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read().await?.conn().execute(db::sql("SELECT 1")).await?;
        Ok(())
    }

    /// Connections open in the pool, and how many of them are idle (for `/metrics`).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pools {
            Pools::Sqlite(p) => (p.read.size(), p.read.num_idle()),
            Pools::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    /// A connection for reads (and writes of one statement).
    async fn read(&self) -> Result<Pooled, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite(p) => Pooled::Sqlite(p.read.acquire().await?),
            Pools::Postgres(p) => Pooled::Postgres(p.acquire().await?),
        })
    }

    /// One bounded delete in a write transaction of its own (on SQLite through the one
    /// writer connection, so it queues fairly with the other writes instead of racing
    /// them in SQLite's busy handler).
    async fn delete_batch(&self, q: db::Query<'_>) -> Result<DeletedBatch, StoreError> {
        let mut tx = self.write().await?;
        // From the lock taken (SQLite's write lock is taken at `BEGIN`) to the commit.
        let held = std::time::Instant::now();
        let rows = tx.conn().execute(q).await?;
        tx.commit().await?;
        Ok(DeletedBatch { rows, held: held.elapsed() })
    }

    /// A write transaction: the one transaction helper every multi-step change uses.
    async fn write(&self) -> Result<Tx, StoreError> {
        begin_write(&self.pools).await
    }
}
