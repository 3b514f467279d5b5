//! One way to run a statement on either backend. SQL is written once, with `$N`
//! placeholders both drivers bind by number; a `Query` carries it and its arguments, and
//! a `Conn` (a pooled connection or a transaction's) runs it on SQLite or PostgreSQL.
//! Rows decode through `sqlx::FromRow`, which the derive implements for both at once.
//!
//! Why not generic functions over `sqlx::Database`: each would repeat a wall of
//! `Encode`/`Decode`/`Executor` bounds; why not `sqlx::Any`: it decodes through its own
//! value type, and measured slower. This costs one `match` and a small argument vector
//! per statement, against a database round trip.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{
    Arguments, Decode, Encode, FromRow, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction, Type,
};

use super::StoreError;

/// Which database the store talks to; the few statements that differ ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Locks the rows a query reads for the rest of the transaction. SQLite's write
    /// transaction holds the whole database already.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// `for_update` for the refresh-token join, naming the token's table.
    pub fn for_update_of_token(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF rt",
        }
    }
}

/// A statement argument; both drivers encode each of these.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'q> {
    Text(&'q str),
    OptText(Option<&'q str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    OptBool(Option<bool>),
}

impl<'q> From<&'q str> for Arg<'q> {
    fn from(v: &'q str) -> Self {
        Arg::Text(v)
    }
}

impl<'q> From<&'q String> for Arg<'q> {
    fn from(v: &'q String) -> Self {
        Arg::Text(v)
    }
}

impl<'q> From<Option<&'q str>> for Arg<'q> {
    fn from(v: Option<&'q str>) -> Self {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<Option<bool>> for Arg<'_> {
    fn from(v: Option<bool>) -> Self {
        Arg::OptBool(v)
    }
}

/// A statement and its arguments, in `$N` order.
pub struct Query<'q> {
    sql: &'q str,
    args: Vec<Arg<'q>>,
}

/// Starts a statement: `sql("… WHERE id = $1").bind(id)`.
pub fn sql(sql: &str) -> Query<'_> {
    Query { sql, args: Vec::new() }
}

impl<'q> Query<'q> {
    pub fn bind(mut self, arg: impl Into<Arg<'q>>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn sqlite_args(&self) -> Result<SqliteArguments<'q>, StoreError> {
        let mut out = SqliteArguments::default();
        fill(&self.args, &mut out)?;
        Ok(out)
    }

    fn pg_args(&self) -> Result<PgArguments, StoreError> {
        let mut out = PgArguments::default();
        fill(&self.args, &mut out)?;
        Ok(out)
    }
}

/// Adds the arguments to a backend's argument list, in order.
fn fill<'q, A>(args: &[Arg<'q>], out: &mut A) -> Result<(), StoreError>
where
    A: Arguments<'q>,
    &'q str: Encode<'q, A::Database> + Type<A::Database>,
    Option<&'q str>: Encode<'q, A::Database> + Type<A::Database>,
    i64: Encode<'q, A::Database> + Type<A::Database>,
    Option<i64>: Encode<'q, A::Database> + Type<A::Database>,
    bool: Encode<'q, A::Database> + Type<A::Database>,
    Option<bool>: Encode<'q, A::Database> + Type<A::Database>,
{
    for arg in args {
        match *arg {
            Arg::Text(v) => out.add(v),
            Arg::OptText(v) => out.add(v),
            Arg::Int(v) => out.add(v),
            Arg::OptInt(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::OptBool(v) => out.add(v),
        }
        .map_err(|e| StoreError::Other(format!("binding an argument: {e}")))?;
    }
    Ok(())
}

/// A row type both backends decode (what `#[derive(sqlx::FromRow)]` gives).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A single column both backends decode.
pub trait Scalar:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> + Send + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// A connection of either backend: a pooled one, or a transaction's.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, q: Query<'_>) -> Result<u64, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                sqlx::query_with(q.sql, q.sqlite_args()?).execute(&mut **c).await?.rows_affected()
            }
            Conn::Postgres(c) => {
                sqlx::query_with(q.sql, q.pg_args()?).execute(&mut **c).await?.rows_affected()
            }
        })
    }

    pub async fn optional<T: Row>(&mut self, q: Query<'_>) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => sqlx::query_as_with(q.sql, q.sqlite_args()?).fetch_optional(&mut **c).await?,
            Conn::Postgres(c) => sqlx::query_as_with(q.sql, q.pg_args()?).fetch_optional(&mut **c).await?,
        })
    }

    /// The one row the statement returns (`INSERT … RETURNING`).
    pub async fn one<T: Row>(&mut self, q: Query<'_>) -> Result<T, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => sqlx::query_as_with(q.sql, q.sqlite_args()?).fetch_one(&mut **c).await?,
            Conn::Postgres(c) => sqlx::query_as_with(q.sql, q.pg_args()?).fetch_one(&mut **c).await?,
        })
    }

    pub async fn all<T: Row>(&mut self, q: Query<'_>) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => sqlx::query_as_with(q.sql, q.sqlite_args()?).fetch_all(&mut **c).await?,
            Conn::Postgres(c) => sqlx::query_as_with(q.sql, q.pg_args()?).fetch_all(&mut **c).await?,
        })
    }

    /// The first column of the one row the statement returns.
    pub async fn scalar<T: Scalar>(&mut self, q: Query<'_>) -> Result<T, StoreError> {
        let (v,) = self.one::<(T,)>(q).await?;
        Ok(v)
    }

    /// The first column of the row, if the statement returns one.
    pub async fn optional_scalar<T: Scalar>(&mut self, q: Query<'_>) -> Result<Option<T>, StoreError> {
        Ok(self.optional::<(T,)>(q).await?.map(|(v,)| v))
    }

    /// The database's plan for the statement, one line per step: SQLite's `EXPLAIN QUERY
    /// PLAN` details, PostgreSQL's `EXPLAIN` lines.
    pub async fn plan(&mut self, q: Query<'_>) -> Result<Vec<String>, StoreError> {
        use sqlx::Row as _;
        let explain = match self.backend() {
            Backend::Sqlite => format!("EXPLAIN QUERY PLAN {}", q.sql),
            Backend::Postgres => format!("EXPLAIN {}", q.sql),
        };
        Ok(match self {
            // Not kept prepared: SQLite would answer a later ask from the first plan,
            // whatever indexes came or went since.
            Conn::Sqlite(c) => sqlx::query_with(&explain, q.sqlite_args()?)
                .persistent(false)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>("detail"))
                .collect::<Result<_, _>>()?,
            Conn::Postgres(c) => sqlx::query_with(&explain, q.pg_args()?)
                .persistent(false)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The first column of every row.
    pub async fn scalars<T: Scalar>(&mut self, q: Query<'_>) -> Result<Vec<T>, StoreError> {
        Ok(self.all::<(T,)>(q).await?.into_iter().map(|(v,)| v).collect())
    }
}

/// A write transaction; dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A connection from the read pool, for reads and single-statement writes.
pub enum Pooled {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}
