//! Fresh databases for tests: a new SQLite file in a temporary directory, or a new PostgreSQL database
//! on the server named by `KEFU_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).

use sea_orm::{ConnectionTrait, Database};

use crate::Backend;

/// A database that exists for one test. SQLite files go with the temporary directory; PostgreSQL
/// databases are named `kefu_test_*` and dropped by [`TestDatabase::drop_now`] or by the test command's
/// clean-up of leftovers.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile_dir::Dir>,
    pg_name: Option<String>,
}

mod tempfile_dir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("KEFU_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        let name = format!("kefu_test_{}", uuid::Uuid::now_v7().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.join("kefu.db").display());
                TestDatabase {
                    url,
                    backend,
                    _dir: Some(tempfile_dir::Dir(dir)),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let db = Database::connect(&admin)
                    .await
                    .expect("connect to PostgreSQL (KEFU_TEST_POSTGRES_URL)");
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                db.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    backend,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Drops a PostgreSQL test database (connections to it must be closed first).
    pub async fn drop_now(self) {
        if let Some(name) = &self.pg_name
            && let Ok(db) = Database::connect(&postgres_admin_url()).await
        {
            let _ = db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            let _ = db.close().await;
        }
    }
}
