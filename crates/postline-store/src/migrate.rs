//! Versioned migrations, applied in order at start-up on both backends. Each
//! migration runs in a transaction together with its row in `schema_migrations`,
//! so a crash never leaves one half-applied; on PostgreSQL an advisory lock keeps
//! two starting nodes from migrating at once.

use sqlx::{Executor, Row};

use crate::{Backend, StoreError};

/// (version, name, SQL) of every migration, oldest first.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "outbound", include_str!("../migrations/0002_outbound.sql")),
    (3, "domains", include_str!("../migrations/0003_domains.sql")),
    (4, "key_rotation", include_str!("../migrations/0004_key_rotation.sql")),
    (5, "domain_claims", include_str!("../migrations/0005_domain_claims.sql")),
    (6, "webhooks", include_str!("../migrations/0006_webhooks.sql")),
    (7, "lean_delivery", include_str!("../migrations/0007_lean_delivery.sql")),
    (8, "audience", include_str!("../migrations/0008_audience.sql")),
    (9, "suppression_ids", include_str!("../migrations/0009_suppression_ids.sql")),
    (10, "contact_imports", include_str!("../migrations/0010_contact_imports.sql")),
    (11, "unsubscribe", include_str!("../migrations/0011_unsubscribe.sql")),
    (12, "broadcasts", include_str!("../migrations/0012_broadcasts.sql")),
    (13, "templates", include_str!("../migrations/0013_templates.sql")),
    (14, "receiving", include_str!("../migrations/0014_receiving.sql")),
    (15, "users", include_str!("../migrations/0015_users.sql")),
    (16, "capture", include_str!("../migrations/0016_capture.sql")),
    (17, "request_logs_and_exports", include_str!("../migrations/0017_request_logs_and_exports.sql")),
    (18, "delivery_lanes", include_str!("../migrations/0018_delivery_lanes.sql")),
];

/// The newest schema version this binary knows (the last migration's, so adding a
/// migration cannot leave it behind).
pub const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The migration's SQL for `backend`, with `--` comment lines removed (so a `;` in a
/// comment cannot split a statement).
fn render(sql: &str, backend: Backend) -> String {
    let (blob, serial_pk, random_uuid) = match backend {
        Backend::Sqlite => (
            "BLOB",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || \
             hex(randomblob(2)) || '-' || hex(randomblob(6)))",
        ),
        Backend::Postgres => ("BYTEA", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "gen_random_uuid()::text"),
    };
    sql.lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{blob}", blob)
        .replace("{serial_pk}", serial_pk)
        .replace("{random_uuid}", random_uuid)
}

/// Applies every migration not yet applied; returns the versions applied now.
pub async fn run(pool: &sqlx::AnyPool, backend: Backend) -> Result<Vec<i64>, StoreError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_lock(7390001)").await?;
    }
    let result = apply_pending(&mut conn, backend).await;
    if backend == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(7390001)").await?;
    }
    result
}

async fn apply_pending(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<Vec<i64>, StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    if let Some(newer) = applied.iter().find(|v| **v > LATEST) {
        return Err(StoreError::Corrupt(format!(
            "the database is at schema version {newer}, newer than this binary knows ({LATEST}); upgrade postline"
        )));
    }
    let mut now_applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let rendered = render(sql, backend);
        for statement in rendered.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute(sqlx::AssertSqlSafe(statement.to_string())).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(*version)
            .bind(*name)
            .bind(chrono::Utc::now().timestamp_micros())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
        now_applied.push(*version);
    }
    Ok(now_applied)
}
