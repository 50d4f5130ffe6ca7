//! Finding a team's emails the way the dashboard's Emails page filters them: words in
//! a recipient or the subject, the current status, a tag, a date range — newest
//! first, in cursor pages.

use crate::{
    Postline, Result,
    clock::Timestamp,
    emails::{Email, EventKind},
    ids::TeamId,
    pagination::{Page, PageRequest},
};

/// Longest search text used (longer input is cut, not refused: it is a search box).
const MAX_TEXT: usize = 200;

/// The filters; `None` leaves a dimension open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailSearch {
    /// Matched, without case, inside any recipient (to, cc, bcc) or the subject.
    pub text: Option<String>,
    pub status: Option<EventKind>,
    /// A tag name the email carries.
    pub tag: Option<String>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
}

impl EmailSearch {
    /// The search with blank fields dropped and text bounded.
    pub fn normalized(mut self) -> Self {
        let clean = |value: Option<String>| {
            value.map(|v| v.trim().chars().take(MAX_TEXT).collect::<String>()).filter(|v| !v.is_empty())
        };
        self.text = clean(self.text).map(|t| t.to_lowercase());
        self.tag = clean(self.tag);
        self
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Postline {
    /// The team's emails matching `search`, newest first.
    pub async fn search_emails(&self, team_id: TeamId, search: EmailSearch, page: PageRequest) -> Result<Page<Email>> {
        self.store.search_emails(team_id, &search.normalized(), &page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_lowered_and_escaped() {
        let search = EmailSearch { text: Some("  50%_Off\\ ".into()), tag: Some("   ".into()), ..Default::default() };
        let search = search.normalized();
        assert_eq!(search.text.as_deref(), Some("50%_off\\"));
        assert_eq!(search.tag, None, "blank fields are open");
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }
}
