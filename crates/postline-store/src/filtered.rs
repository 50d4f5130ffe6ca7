//! A team's list whose `WHERE` grows with the filters given (the Emails page's
//! search, the request log): every value bound as a parameter, newest first with the
//! usual id cursor.

use postline_core::{
    Result,
    ids::TeamId,
    pagination::{Page, PageRequest},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{error::db, rows};

/// A bound value.
enum Bind {
    Text(String),
    Number(i64),
}

/// The conditions so far, all joined with `AND`, and the values they bind.
pub(crate) struct Filtered {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Filtered {
    /// Rows of `team_id` only, before any filter.
    pub fn of_team(team_id: TeamId) -> Self {
        Filtered { conditions: vec!["team_id = $1".to_string()], binds: vec![Bind::Text(team_id.to_string())] }
    }

    /// Binds `value` next; its placeholder.
    pub fn text(&mut self, value: String) -> String {
        self.bind(Bind::Text(value))
    }

    /// Binds `value` next; its placeholder.
    pub fn number(&mut self, value: i64) -> String {
        self.bind(Bind::Number(value))
    }

    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Adds a condition (its values bound through [`Filtered::text`] and [`Filtered::number`]).
    pub fn require(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// One page of `select` (`SELECT columns FROM table`) under the conditions.
    pub async fn page<T>(
        mut self,
        pool: &sqlx::AnyPool,
        select: &str,
        page: &PageRequest,
        row: fn(&AnyRow) -> Result<T>,
    ) -> Result<Page<T>> {
        let (cursor_condition, order, cursor, reverse) = rows::cursor_sql(page, self.binds.len() + 1, true);
        if let Some(cursor) = cursor {
            self.binds.push(Bind::Text(cursor));
        }
        let sql = format!(
            "{select} WHERE {} {cursor_condition} {order} LIMIT {}",
            self.conditions.join(" AND "),
            page.limit + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Number(number) => query.bind(number),
            };
        }
        let found = query.fetch_all(pool).await.map_err(db)?;
        let items = found.iter().map(row).collect::<Result<Vec<_>>>()?;
        Ok(rows::page_of(items, page.limit, reverse))
    }
}
