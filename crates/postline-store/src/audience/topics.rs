//! `topics` and `topic_subscriptions` (a contact's own choices; a topic's default
//! applies to everyone who has not chosen).

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    audience::{Subscription, Topic, TopicConsent, Visibility},
    clock::{Timestamp, to_micros},
    delivery::suppression::normalize,
    ids::{ContactId, TeamId, TopicId},
    pagination::{Page, PageRequest},
    store::TopicStore,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, name, description, default_subscription, visibility, created_at, updated_at";

fn subscription(raw: &str) -> Result<Subscription> {
    Subscription::parse(raw).ok_or_else(|| Error::Internal(format!("unknown subscription {raw}")))
}

fn topic_from(row: &AnyRow) -> Result<Topic> {
    let visibility: String = rows::get(row, "visibility")?;
    Ok(Topic {
        id: TopicId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        description: rows::get(row, "description")?,
        default_subscription: subscription(&rows::get::<String>(row, "default_subscription")?)?,
        visibility: Visibility::parse(&visibility)
            .ok_or_else(|| Error::Internal(format!("unknown visibility {visibility}")))?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

#[async_trait]
impl TopicStore for Db {
    async fn insert_topic(&self, t: &Topic) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(AssertSqlSafe(format!("INSERT INTO topics ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")))
            .bind(t.id.to_string())
            .bind(t.team_id.to_string())
            .bind(&t.name)
            .bind(t.description.as_deref())
            .bind(t.default_subscription.as_str())
            .bind(t.visibility.as_str())
            .bind(to_micros(t.created_at))
            .bind(to_micros(t.updated_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_topic(&self, team_id: TeamId, id: TopicId) -> Result<Option<Topic>> {
        self.get_owned(COLUMNS, "topics", team_id, &id.to_string(), topic_from).await
    }

    async fn list_topics(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Topic>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM topics"), team_id, page, topic_from).await
    }

    async fn save_topic(&self, t: &Topic) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE topics SET name = $1, description = $2, visibility = $3, updated_at = $4 \
             WHERE id = $5 AND team_id = $6",
        )
        .bind(&t.name)
        .bind(t.description.as_deref())
        .bind(t.visibility.as_str())
        .bind(to_micros(t.updated_at))
        .bind(t.id.to_string())
        .bind(t.team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_topic(&self, team_id: TeamId, id: TopicId) -> Result<bool> {
        self.delete_owned("topics", team_id, &id.to_string()).await
    }

    async fn contact_subscriptions(&self, team_id: TeamId, contact: ContactId) -> Result<Vec<(TopicId, Subscription)>> {
        let found = sqlx::query(
            "SELECT topic_id, subscription FROM topic_subscriptions WHERE contact_id = $1 AND team_id = $2",
        )
        .bind(contact.to_string())
        .bind(team_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                Ok((TopicId(rows::uuid(row, "topic_id")?), subscription(&rows::get::<String>(row, "subscription")?)?))
            })
            .collect()
    }

    async fn topic_consent(&self, team_id: TeamId, topic: TopicId, email: &str) -> Result<Option<TopicConsent>> {
        let found = sqlx::query(
            "SELECT t.default_subscription, c.id AS contact_id, c.unsubscribed, s.subscription \
             FROM topics t \
             LEFT JOIN contacts c ON c.team_id = t.team_id AND c.email_key = $3 \
             LEFT JOIN topic_subscriptions s ON s.topic_id = t.id AND s.contact_id = c.id \
             WHERE t.id = $1 AND t.team_id = $2",
        )
        .bind(topic.to_string())
        .bind(team_id.to_string())
        .bind(normalize(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some(row) = found else { return Ok(None) };
        let contact = match rows::get::<Option<String>>(&row, "contact_id")? {
            None => None,
            Some(_) => {
                let chosen =
                    rows::get::<Option<String>>(&row, "subscription")?.map(|raw| subscription(&raw)).transpose()?;
                Some((rows::flag(&row, "unsubscribed")?, chosen))
            }
        };
        Ok(Some(TopicConsent {
            default_subscription: subscription(&rows::get::<String>(&row, "default_subscription")?)?,
            contact,
        }))
    }

    async fn set_subscriptions(
        &self,
        team_id: TeamId,
        contact: ContactId,
        choices: &[(TopicId, Subscription)],
        at: Timestamp,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        super::contacts::write_subscriptions(&mut tx, team_id, contact, choices, to_micros(at)).await?;
        tx.commit().await.map_err(db)
    }
}
