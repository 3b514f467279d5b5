//! A fresh, empty database per test, on the store `TEST_BACKEND` names.

/// Which store the suite runs on: `TEST_BACKEND=sqlite` (default) or `postgres`.
pub fn on_postgres() -> bool {
    std::env::var("TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL server the suite uses; each test gets a fresh schema in it.
pub fn postgres_base_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database for one test: a temp SQLite file, or a new PostgreSQL schema
/// (dropped again when the test ends), so tests never see each other's data.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if !on_postgres() {
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            return TestDb { url, _dir: dir, schema: None };
        }
        let schema = format!("authenticon_t_{}", uuid::Uuid::new_v4().simple());
        run_sql_blocking(&format!("CREATE SCHEMA {schema}"));
        let url = format!("{}?options=-c%20search_path%3D{schema}", postgres_base_url());
        TestDb { url, _dir: dir, schema: Some(schema) }
    }

    /// A private temp folder (beside the SQLite file, when there is one).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDb {
    /// Ends any connection still holding locks in the schema first: a background task
    /// (a mail being recorded) cut off when the test's runtime stopped leaves its
    /// connection idle in a transaction, and the drop would wait on it forever.
    fn drop(&mut self) {
        if let Some(schema) = &self.schema {
            run_sql_blocking(&format!(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                 JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = '{schema}' AND l.pid <> pg_backend_pid()"
            ));
            run_sql_blocking(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Runs one statement on the test server from a thread of its own (callable anywhere,
/// also from `Drop` inside an async test).
fn run_sql_blocking(sql: &str) {
    use sqlx::Connection;
    let sql = sql.to_string();
    let url = postgres_base_url();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {url}: {e}. The suite runs on PostgreSQL when \
                     TEST_BACKEND=postgres; start the server or point TEST_DATABASE_URL at one."
                )
            });
            sqlx::query(&sql).execute(&mut conn).await.expect("test schema statement");
            let _ = conn.close().await;
        })
    })
    .join()
    .expect("schema thread");
}

/// Runs `statement` on the test's database beside the server (to take an index or a
/// table away from under it).
pub async fn execute_on(url: &str, statement: &str) {
    use sqlx::Connection;
    if on_postgres() {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
}

/// The one number `query` (a `SELECT` of one integer) gives on the test's database.
pub async fn number_on(url: &str, query: &str) -> i64 {
    use sqlx::Connection;
    if on_postgres() {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(query).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(query).fetch_one(&mut c).await.unwrap()
    }
}
