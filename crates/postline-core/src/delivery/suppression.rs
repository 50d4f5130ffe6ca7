//! The team's suppression list: addresses that hard-bounced or complained. A send
//! to a suppressed address produces `email.suppressed` and is never attempted. The
//! contract's `/suppressions` endpoints expose this list.

use serde_json::Value;

use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    emails::address::valid_address,
    ids::{EmailId, SuppressionId, TeamId},
    pagination::{Page, PageRequest},
};

/// Most addresses in one batch call (the contract's limit).
pub const MAX_BATCH: usize = 100;

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    PreviousBounce,
    PreviousComplaint,
    /// Added through the API, the CLI or the dashboard.
    Manual,
}

impl Reason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::PreviousBounce => "previous_bounce",
            Reason::PreviousComplaint => "previous_complaint",
            Reason::Manual => "manual",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "previous_complaint" => Reason::PreviousComplaint,
            "manual" => Reason::Manual,
            _ => Reason::PreviousBounce,
        }
    }

    /// The `/suppressions` API's `origin`.
    pub fn origin(self) -> &'static str {
        match self {
            Reason::PreviousBounce => "bounce",
            Reason::PreviousComplaint => "complaint",
            Reason::Manual => "manual",
        }
    }

    /// The reason in an `email.suppressed` event, whose contract knows only bounces and
    /// complaints: an address added by hand is reported like a bounce (the event's
    /// message says it was added to the list).
    pub fn event_reason(self) -> &'static str {
        match self {
            Reason::PreviousComplaint => "previous_complaint",
            Reason::PreviousBounce | Reason::Manual => "previous_bounce",
        }
    }

    fn from_origin(raw: &str) -> Option<Self> {
        match raw {
            "bounce" => Some(Reason::PreviousBounce),
            "complaint" => Some(Reason::PreviousComplaint),
            "manual" => Some(Reason::Manual),
            _ => None,
        }
    }
}

/// How an API path names a suppression: its id, or the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressionRef {
    Id(SuppressionId),
    Email(String),
}

/// An entry of a team's suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub id: SuppressionId,
    pub team_id: TeamId,
    /// Lower-cased address.
    pub email: String,
    pub reason: Reason,
    /// The email whose bounce or complaint put it here.
    pub source_email_id: Option<EmailId>,
    pub created_at: Timestamp,
}

/// The form addresses take on the list: lower-cased, so lookups ignore case.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

fn suppression_ref(identifier: &str) -> Result<SuppressionRef> {
    if identifier.contains('@') {
        Ok(SuppressionRef::Email(normalize(identifier)))
    } else {
        Ok(SuppressionRef::Id(SuppressionId::parse(identifier)?))
    }
}

fn address(value: &Value) -> Result<String> {
    let raw = value.as_str().ok_or_else(|| Error::value("Each email must be a string."))?;
    if !valid_address(raw.trim()) {
        return Err(Error::value(format!("`{raw}` is not a valid email address.")));
    }
    Ok(normalize(raw))
}

/// A non-empty list of at most [`MAX_BATCH`] items named `field`.
fn batch<'a>(body: &'a Value, field: &str) -> Result<Option<&'a Vec<Value>>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) if (1..=MAX_BATCH).contains(&items.len()) => Ok(Some(items)),
        Some(_) => Err(Error::value(format!("The `{field}` field must be an array of 1 to {MAX_BATCH} items."))),
    }
}

impl Postline {
    /// The team's suppression entry for an address, if any.
    pub async fn suppression_of(&self, team_id: TeamId, address: &str) -> Result<Option<Suppression>> {
        self.store.suppression(team_id, &normalize(address)).await
    }

    fn manual_entry(&self, team_id: TeamId, email: String) -> Suppression {
        Suppression {
            id: SuppressionId::new(),
            team_id,
            email,
            reason: Reason::Manual,
            source_email_id: None,
            created_at: self.clock.now(),
        }
    }

    /// Suppresses an address by hand (`POST /suppressions`); an address already on
    /// the list keeps its entry (and its origin).
    pub async fn add_suppression(&self, team_id: TeamId, body: &Value) -> Result<Suppression> {
        let email = match body.get("email") {
            None | Some(Value::Null) => return Err(Error::missing("email")),
            Some(value) => address(value)?,
        };
        let mut added = self.store.add_suppressions(&[self.manual_entry(team_id, email)]).await?;
        added.pop().ok_or_else(|| Error::Internal("the suppression was not written".into()))
    }

    /// Suppresses up to 100 addresses at once (`POST /suppressions/batch/add`).
    pub async fn add_suppressions(&self, team_id: TeamId, body: &Value) -> Result<Vec<Suppression>> {
        let items = batch(body, "emails")?.ok_or_else(|| Error::missing("emails"))?;
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let email = address(item)?;
            if !entries.iter().any(|e: &Suppression| e.email == email) {
                entries.push(self.manual_entry(team_id, email));
            }
        }
        self.store.add_suppressions(&entries).await
    }

    /// One entry, by id or address.
    pub async fn get_suppression(&self, team_id: TeamId, identifier: &str) -> Result<Suppression> {
        self.store.find_suppression(team_id, &suppression_ref(identifier)?).await?.ok_or(Error::NotFound("Suppression"))
    }

    /// The team's list, newest first, optionally of one origin.
    pub async fn list_suppressions(
        &self,
        team_id: TeamId,
        origin: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Suppression>> {
        let reason = origin
            .map(|raw| {
                Reason::from_origin(raw).ok_or_else(|| {
                    Error::parameter(format!("The `origin` must be `bounce`, `complaint` or `manual`, not `{raw}`."))
                })
            })
            .transpose()?;
        self.store.list_suppressions(team_id, reason, &page).await
    }

    /// Takes an address off the list: it may be sent to again.
    pub async fn remove_suppression(&self, team_id: TeamId, identifier: &str) -> Result<Suppression> {
        let entry = self.get_suppression(team_id, identifier).await?;
        self.store.remove_suppressions(team_id, &[SuppressionRef::Id(entry.id)]).await?;
        Ok(entry)
    }

    /// Takes up to 100 entries off the list, given by `emails` or by `ids` (not both);
    /// returns those that were on it.
    pub async fn remove_suppressions(&self, team_id: TeamId, body: &Value) -> Result<Vec<Suppression>> {
        let refs = match (batch(body, "emails")?, batch(body, "ids")?) {
            (Some(_), Some(_)) => return Err(Error::value("Give either `emails` or `ids`, not both.")),
            (None, None) => return Err(Error::missing("emails")),
            (Some(emails), None) => {
                emails.iter().map(|e| address(e).map(SuppressionRef::Email)).collect::<Result<Vec<_>>>()?
            }
            (None, Some(ids)) => ids
                .iter()
                .map(|id| {
                    let raw = id.as_str().ok_or_else(|| Error::value("Each id must be a string."))?;
                    Ok(SuppressionRef::Id(SuppressionId::parse(raw)?))
                })
                .collect::<Result<Vec<_>>>()?,
        };
        self.store.remove_suppressions(team_id, &refs).await
    }
}
