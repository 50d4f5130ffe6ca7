//! The Emails page's search: one query whose `WHERE` grows with the filters given,
//! every value bound as a parameter (`LIKE` patterns escaped), newest first with the
//! usual id cursor.

use crate::{Db, emails::EMAIL_COLUMNS, filtered::Filtered};
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

pub(crate) async fn search(
    store: &Db,
    team_id: TeamId,
    search: &EmailSearch,
    page: &PageRequest,
) -> Result<Page<Email>> {
    let mut query = Filtered::of_team(team_id);
    if let Some(text) = &search.text {
        let p = query.text(format!("%{}%", like_escape(text)));
        query.require(format!(
            "(LOWER(to_addrs) LIKE {p} ESCAPE '\\' OR LOWER(cc_addrs) LIKE {p} ESCAPE '\\' \
             OR LOWER(bcc_addrs) LIKE {p} ESCAPE '\\' OR LOWER(subject) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(status) = search.status {
        let p = query.text(status.as_str().to_string());
        query.require(format!("last_event = {p}"));
    }
    if let Some(tag) = &search.tag {
        // Tags are stored as a JSON list of `{"name", "value"}` objects.
        let needle = serde_json::to_string(&tag).unwrap_or_default();
        let p = query.text(format!("%\"name\":{}%", like_escape(&needle)));
        query.require(format!("tags LIKE {p} ESCAPE '\\'"));
    }
    if let Some(since) = search.since {
        let p = query.number(to_micros(since));
        query.require(format!("created_at >= {p}"));
    }
    if let Some(until) = search.until {
        let p = query.number(to_micros(until));
        query.require(format!("created_at < {p}"));
    }
    query.page(&store.pool, &format!("SELECT {EMAIL_COLUMNS} FROM emails"), page, crate::emails::email_from).await
}
