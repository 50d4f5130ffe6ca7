//! `templates`: one row per template with its draft and published versions as JSON.
//! Aliases are unique per team (a unique index; NULLs never clash).

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    clock::to_micros,
    ids::{TeamId, TemplateId},
    pagination::{Page, PageRequest},
    store::TemplateStore,
    templates::{Template, Version, manage::TemplateRef},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, name, alias, draft, published, published_at, created_at, updated_at";

fn template_from(row: &AnyRow) -> Result<Template> {
    let published: Option<String> = rows::get(row, "published")?;
    Ok(Template {
        id: TemplateId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        alias: rows::get(row, "alias")?,
        draft: rows::json(row, "draft")?,
        published: published
            .as_deref()
            .map(serde_json::from_str::<Version>)
            .transpose()
            .map_err(|e| Error::Internal(format!("column published holds bad JSON: {e}")))?,
        published_at: rows::opt_time(row, "published_at")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

impl Db {
    /// Whether another template of the team has this alias.
    async fn alias_elsewhere(&self, t: &Template) -> Result<bool> {
        let Some(alias) = &t.alias else { return Ok(false) };
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM templates WHERE team_id = $1 AND alias = $2 AND id <> $3")
                .bind(t.team_id.to_string())
                .bind(alias)
                .bind(t.id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        Ok(found.is_some())
    }
}

#[async_trait]
impl TemplateStore for Db {
    async fn insert_template(&self, t: &Template) -> Result<bool> {
        let _turn = self.write_turn().await;
        let sql = format!(
            "INSERT INTO templates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(t.id.to_string())
            .bind(t.team_id.to_string())
            .bind(&t.name)
            .bind(t.alias.as_deref())
            .bind(rows::to_json(&t.draft))
            .bind(t.published.as_ref().map(rows::to_json))
            .bind(t.published_at.map(to_micros))
            .bind(to_micros(t.created_at))
            .bind(to_micros(t.updated_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<Option<Template>> {
        let (column, value) = match by {
            TemplateRef::Id(id) => ("id", id.to_string()),
            TemplateRef::Alias(alias) => ("alias", alias.clone()),
        };
        let sql = format!("SELECT {COLUMNS} FROM templates WHERE {column} = $1 AND team_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(value)
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(template_from).transpose()
    }

    async fn list_templates(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Template>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM templates"), team_id, page, template_from).await
    }

    async fn save_template(&self, t: &Template) -> Result<bool> {
        let _turn = self.write_turn().await;
        if self.alias_elsewhere(t).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE templates SET name = $1, alias = $2, draft = $3, published = $4, published_at = $5, \
             updated_at = $6 WHERE id = $7 AND team_id = $8",
        )
        .bind(&t.name)
        .bind(t.alias.as_deref())
        .bind(rows::to_json(&t.draft))
        .bind(t.published.as_ref().map(rows::to_json))
        .bind(t.published_at.map(to_micros))
        .bind(to_micros(t.updated_at))
        .bind(t.id.to_string())
        .bind(t.team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(true)
    }

    async fn delete_template(&self, team_id: TeamId, id: TemplateId) -> Result<bool> {
        self.delete_owned("templates", team_id, &id.to_string()).await
    }
}
