//! The Emails page's search: one query whose `WHERE` grows with the filters given,
//! every value bound as a parameter (`LIKE` patterns escaped), newest first with the
//! usual id cursor.

use postline_core::{
    Result,
    clock::to_micros,
    emails::{
        Email,
        search::{EmailSearch, like_escape},
    },
    ids::TeamId,
    pagination::{Page, PageRequest},
};
use sqlx::AssertSqlSafe;

use crate::{Db, emails::EMAIL_COLUMNS, error::db, rows};

/// A bound value.
enum Bind {
    Text(String),
    Number(i64),
}

/// Binds `value` next; its placeholder.
fn next(binds: &mut Vec<Bind>, value: Bind) -> String {
    binds.push(value);
    format!("${}", binds.len())
}

pub(crate) async fn search(
    store: &Db,
    team_id: TeamId,
    search: &EmailSearch,
    page: &PageRequest,
) -> Result<Page<Email>> {
    let mut conditions = vec!["team_id = $1".to_string()];
    let mut binds = vec![Bind::Text(team_id.to_string())];
    if let Some(text) = &search.text {
        let p = next(&mut binds, Bind::Text(format!("%{}%", like_escape(text))));
        conditions.push(format!(
            "(LOWER(to_addrs) LIKE {p} ESCAPE '\\' OR LOWER(cc_addrs) LIKE {p} ESCAPE '\\' \
             OR LOWER(bcc_addrs) LIKE {p} ESCAPE '\\' OR LOWER(subject) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(status) = search.status {
        let p = next(&mut binds, Bind::Text(status.as_str().to_string()));
        conditions.push(format!("last_event = {p}"));
    }
    if let Some(tag) = &search.tag {
        // Tags are stored as a JSON list of `{"name", "value"}` objects.
        let needle = serde_json::to_string(&tag).unwrap_or_default();
        let p = next(&mut binds, Bind::Text(format!("%\"name\":{}%", like_escape(&needle))));
        conditions.push(format!("tags LIKE {p} ESCAPE '\\'"));
    }
    if let Some(since) = search.since {
        let p = next(&mut binds, Bind::Number(to_micros(since)));
        conditions.push(format!("created_at >= {p}"));
    }
    if let Some(until) = search.until {
        let p = next(&mut binds, Bind::Number(to_micros(until)));
        conditions.push(format!("created_at < {p}"));
    }
    let (cursor_condition, order, cursor, reverse) = rows::cursor_sql(page, binds.len() + 1, true);
    if let Some(cursor) = cursor {
        binds.push(Bind::Text(cursor));
    }
    let sql = format!(
        "SELECT {EMAIL_COLUMNS} FROM emails WHERE {} {cursor_condition} {order} LIMIT {}",
        conditions.join(" AND "),
        page.limit + 1
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Number(number) => query.bind(number),
        };
    }
    let found = query.fetch_all(&store.pool).await.map_err(db)?;
    let items = found.iter().map(crate::emails::email_from).collect::<Result<Vec<_>>>()?;
    Ok(rows::page_of(items, page.limit, reverse))
}
