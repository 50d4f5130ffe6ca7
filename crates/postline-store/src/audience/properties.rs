//! `contact_properties`: a team's custom fields; the fallback value is JSON text.

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    audience::{ContactProperty, PropertyType},
    clock::to_micros,
    ids::{ContactPropertyId, TeamId},
    pagination::{Page, PageRequest},
    store::ContactPropertyStore,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, prop_key, prop_type, fallback_value, created_at";

fn property_from(row: &AnyRow) -> Result<ContactProperty> {
    let raw_type: String = rows::get(row, "prop_type")?;
    Ok(ContactProperty {
        id: ContactPropertyId(rows::uuid(row, "id")?),
        team_id: postline_core::ids::TeamId(rows::uuid(row, "team_id")?),
        key: rows::get(row, "prop_key")?,
        property_type: PropertyType::parse(&raw_type)
            .ok_or_else(|| Error::Internal(format!("unknown property type {raw_type}")))?,
        fallback_value: rows::json(row, "fallback_value")?,
        created_at: rows::time(row, "created_at")?,
    })
}

#[async_trait]
impl ContactPropertyStore for Db {
    async fn insert_contact_property(&self, p: &ContactProperty) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO contact_properties (id, team_id, prop_key, prop_type, fallback_value, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (team_id, prop_key) DO NOTHING",
        )
        .bind(p.id.to_string())
        .bind(p.team_id.to_string())
        .bind(&p.key)
        .bind(p.property_type.as_str())
        .bind(rows::to_json(&p.fallback_value))
        .bind(to_micros(p.created_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<Option<ContactProperty>> {
        self.get_owned(COLUMNS, "contact_properties", team_id, &id.to_string(), property_from).await
    }

    async fn contact_properties(&self, team_id: TeamId) -> Result<Vec<ContactProperty>> {
        let sql = format!("SELECT {COLUMNS} FROM contact_properties WHERE team_id = $1 ORDER BY id");
        let found =
            sqlx::query(AssertSqlSafe(sql)).bind(team_id.to_string()).fetch_all(&self.pool).await.map_err(db)?;
        found.iter().map(property_from).collect()
    }

    async fn list_contact_properties(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ContactProperty>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM contact_properties"), team_id, page, property_from)
            .await
    }

    async fn save_contact_property(&self, p: &ContactProperty) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE contact_properties SET fallback_value = $1 WHERE id = $2 AND team_id = $3")
            .bind(rows::to_json(&p.fallback_value))
            .bind(p.id.to_string())
            .bind(p.team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the property and its values from every contact (so a property created
    /// again later with the same key starts empty).
    async fn delete_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let key: Option<String> =
            sqlx::query_scalar("DELETE FROM contact_properties WHERE id = $1 AND team_id = $2 RETURNING prop_key")
                .bind(id.to_string())
                .bind(team_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let Some(key) = key else { return Ok(false) };
        // Keys are letters, digits and underscores: the pattern needs no escaping.
        let holders = sqlx::query("SELECT id, properties FROM contacts WHERE team_id = $1 AND properties LIKE $2")
            .bind(team_id.to_string())
            .bind(format!("%\"{key}\":%"))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        for row in &holders {
            let mut properties: serde_json::Map<String, serde_json::Value> = rows::json(row, "properties")?;
            if properties.remove(&key).is_some() {
                sqlx::query("UPDATE contacts SET properties = $1 WHERE id = $2")
                    .bind(rows::to_json(&properties))
                    .bind(rows::get::<String>(row, "id")?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }
}
