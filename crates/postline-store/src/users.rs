//! `users` and `sessions`: dashboard accounts (addresses unique across the
//! installation) and sign-in sessions stored by the hash of their token.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::to_micros,
    ids::{TeamId, UserId},
    store::UserStore,
    users::{Role, Session, User},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, email, name, role, password_hash, created_at";

fn user_from(row: &AnyRow) -> Result<User> {
    let role: String = rows::get(row, "role")?;
    Ok(User {
        id: UserId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        email: rows::get(row, "email")?,
        name: rows::get(row, "name")?,
        role: Role::parse(&role)?,
        password_hash: rows::get(row, "password_hash")?,
        created_at: rows::time(row, "created_at")?,
    })
}

#[async_trait]
impl UserStore for Db {
    async fn insert_user(&self, u: &User) -> Result<bool> {
        let _turn = self.write_turn().await;
        let sql = format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING");
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(u.id.to_string())
            .bind(u.team_id.to_string())
            .bind(&u.email)
            .bind(u.name.as_deref())
            .bind(u.role.as_str())
            .bind(&u.password_hash)
            .bind(to_micros(u.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(email).fetch_optional(&self.pool).await.map_err(db)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn get_user(&self, team_id: TeamId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND team_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(user_from).transpose()
    }

    async fn list_users(&self, team_id: TeamId) -> Result<Vec<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE team_id = $1 ORDER BY id");
        let found =
            sqlx::query(AssertSqlSafe(sql)).bind(team_id.to_string()).fetch_all(&self.pool).await.map_err(db)?;
        found.iter().map(user_from).collect()
    }

    async fn count_users(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(db)?;
        Ok(count as u64)
    }

    async fn insert_session(&self, s: &Session) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Sign-ins are rare: tidy up expired sessions as they happen.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(to_micros(s.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id.to_string())
        .bind(&s.csrf)
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<(Session, User)>> {
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
        let sql = format!(
            "SELECT {}, s.token_hash, s.csrf, s.created_at AS session_created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
            columns.join(", ")
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(token_hash).fetch_optional(&self.pool).await.map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from(&row)?;
        let session = Session {
            token_hash: rows::get(&row, "token_hash")?,
            user_id: user.id,
            csrf: rows::get(&row, "csrf")?,
            created_at: rows::time(&row, "session_created_at")?,
            expires_at: rows::time(&row, "expires_at")?,
        };
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
