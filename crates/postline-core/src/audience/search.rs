//! Finding a team's contacts the way the dashboard's Audience page filters them:
//! words in the address or name, subscribed or unsubscribed, members of a segment —
//! newest first, in cursor pages.

use crate::{
    Error, Postline, Result,
    audience::Contact,
    ids::{SegmentId, TeamId},
    pagination::{Page, PageRequest},
};

/// Longest search text used (longer input is cut: it is a search box).
const MAX_TEXT: usize = 200;

/// The filters; `None` leaves a dimension open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactSearch {
    /// Matched, without case, inside the address, first or last name.
    pub text: Option<String>,
    /// `Some(true)`: only contacts unsubscribed from everything.
    pub unsubscribed: Option<bool>,
    pub segment: Option<SegmentId>,
}

impl Postline {
    /// The team's contacts matching `search`, newest first.
    pub async fn search_contacts(
        &self,
        team_id: TeamId,
        mut search: ContactSearch,
        page: PageRequest,
    ) -> Result<Page<Contact>> {
        search.text = search
            .text
            .map(|t| t.trim().chars().take(MAX_TEXT).collect::<String>().to_lowercase())
            .filter(|t| !t.is_empty());
        if let Some(id) = search.segment {
            self.store.get_segment(team_id, id).await?.ok_or(Error::NotFound("Segment"))?;
        }
        self.store.search_contacts(team_id, &search, &page).await
    }
}
