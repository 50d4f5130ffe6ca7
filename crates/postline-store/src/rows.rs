//! Reading rows back into domain types, and the small conversions every query
//! shares (ids as text, times as microseconds, lists as JSON).

use postline_core::{
    Error, Result, clock,
    pagination::{Cursor, Page, PageRequest},
};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;

use crate::error::db;

/// Reads a column, mapping a missing or mistyped column to an error.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(db)
}

/// Reads a 0/1 integer column as a boolean.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(get::<i32>(row, column)? != 0)
}

/// Reads a UUID column stored as text.
pub(crate) fn uuid(row: &AnyRow, column: &str) -> Result<Uuid> {
    let raw: String = get(row, column)?;
    Uuid::parse_str(&raw).map_err(|_| Error::Internal(format!("column {column} holds a non-UUID")))
}

/// Reads a nullable UUID column stored as text.
pub(crate) fn opt_uuid(row: &AnyRow, column: &str) -> Result<Option<Uuid>> {
    let raw: Option<String> = get(row, column)?;
    raw.map(|r| Uuid::parse_str(&r).map_err(|_| Error::Internal(format!("column {column} holds a non-UUID"))))
        .transpose()
}

/// Reads a timestamp column.
pub(crate) fn time(row: &AnyRow, column: &str) -> Result<clock::Timestamp> {
    Ok(clock::from_micros(get::<i64>(row, column)?))
}

/// Reads a nullable timestamp column.
pub(crate) fn opt_time(row: &AnyRow, column: &str) -> Result<Option<clock::Timestamp>> {
    Ok(get::<Option<i64>>(row, column)?.map(clock::from_micros))
}

/// Reads a JSON text column.
pub(crate) fn json<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T> {
    let raw: String = get(row, column)?;
    serde_json::from_str(&raw).map_err(|e| Error::Internal(format!("column {column} holds bad JSON: {e}")))
}

/// Writes a value as JSON text.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values serialize")
}

/// The SQL for a cursor page over a table ordered by `id` (UUIDv7, so by creation):
/// `(condition, order, cursor bind, whether to reverse what comes back)`.
/// `natural_desc` lists newest first (emails, keys); otherwise oldest first
/// (attachments, in the order they were given).
pub(crate) fn cursor_sql(
    page: &PageRequest,
    param: usize,
    natural_desc: bool,
) -> (String, &'static str, Option<String>, bool) {
    let (forward_op, forward_order, back_op, back_order) = if natural_desc {
        ("<", "ORDER BY id DESC", ">", "ORDER BY id ASC")
    } else {
        (">", "ORDER BY id ASC", "<", "ORDER BY id DESC")
    };
    match &page.cursor {
        Cursor::Start => (String::new(), forward_order, None, false),
        Cursor::After(id) => (format!("AND id {forward_op} ${param}"), forward_order, Some(id.clone()), false),
        Cursor::Before(id) => (format!("AND id {back_op} ${param}"), back_order, Some(id.clone()), true),
    }
}

/// Page bookkeeping: rows were fetched with `limit + 1`; trims, restores the list
/// order, and says whether more exist in the direction of travel.
pub(crate) fn page_of<T>(mut items: Vec<T>, limit: u32, reverse: bool) -> Page<T> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    if reverse {
        items.reverse();
    }
    Page { items, has_more }
}

/// One page of a team's rows, newest first: `select` is `SELECT … FROM table`
/// (the table has `team_id` and UUIDv7 `id` columns), `from_row` reads each row.
pub(crate) async fn team_page<T>(
    pool: &sqlx::AnyPool,
    select: &str,
    team_id: postline_core::ids::TeamId,
    page: &PageRequest,
    from_row: fn(&AnyRow) -> Result<T>,
) -> Result<Page<T>> {
    let (condition, order, cursor, reverse) = cursor_sql(page, 2, true);
    let sql = format!("{select} WHERE team_id = $1 {condition} {order} LIMIT {}", page.limit + 1);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team_id.to_string());
    if let Some(cursor) = cursor {
        query = query.bind(cursor);
    }
    let found = query.fetch_all(pool).await.map_err(db)?;
    let items = found.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page_of(items, page.limit, reverse))
}

impl crate::Db {
    /// Deletes the row of `table` with this id if it belongs to the team; whether one did.
    /// `table` is a fixed name from the caller, never input.
    pub(crate) async fn delete_owned(
        &self,
        table: &str,
        team_id: postline_core::ids::TeamId,
        id: &str,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1 AND team_id = $2")))
            .bind(id)
            .bind(team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    /// The row of `table` with this id if it belongs to the team, read by `from_row`.
    /// `columns` and `table` are fixed text from the caller, never input.
    pub(crate) async fn get_owned<T>(
        &self,
        columns: &str,
        table: &str,
        team_id: postline_core::ids::TeamId,
        id: &str,
        from_row: fn(&AnyRow) -> Result<T>,
    ) -> Result<Option<T>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE id = $1 AND team_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(from_row).transpose()
    }
}
