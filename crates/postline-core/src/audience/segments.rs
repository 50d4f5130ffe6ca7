//! `/segments` (and `/audiences`, their deprecated name: the same rows, shown with
//! `object: "audience"`): named groups of contacts, and adding contacts to them and
//! taking them out.

use serde_json::Value;

use super::{Contact, Segment};
use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{SegmentId, TeamId},
    pagination::{Page, PageRequest},
};

/// Longest segment name.
pub const MAX_NAME_CHARS: usize = 200;

fn segment_name(body: &Value, required: bool) -> Result<Option<String>> {
    match body.get("name") {
        None | Some(Value::Null) if required => Err(Error::missing("name")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => {
            let name = raw.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(Error::value(format!("The `name` must be 1 to {MAX_NAME_CHARS} characters.")));
            }
            Ok(Some(name.to_string()))
        }
        Some(_) => Err(Error::value("The `name` field must be a string.")),
    }
}

impl Postline {
    /// Creates a segment (`POST /segments`, `POST /audiences`).
    pub async fn create_segment(&self, team_id: TeamId, body: &Value) -> Result<Segment> {
        let name = segment_name(body, true)?.unwrap_or_default();
        let filter = match body.get("filter") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::Object(filter)) => Value::Object(filter.clone()),
            Some(_) => return Err(Error::value("The `filter` field must be an object.")),
        };
        let segment = Segment { id: SegmentId::new(), team_id, name, filter, created_at: self.clock.now() };
        self.store.insert_segment(&segment).await?;
        Ok(segment)
    }

    pub async fn get_segment(&self, team_id: TeamId, id: SegmentId) -> Result<Segment> {
        self.store.get_segment(team_id, id).await?.ok_or(Error::NotFound("Segment"))
    }

    pub async fn list_segments(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Segment>> {
        self.store.list_segments(team_id, &page).await
    }

    /// Renames a segment (`PATCH /segments/{id}`, which the SDKs call).
    pub async fn update_segment(&self, team_id: TeamId, id: SegmentId, body: &Value) -> Result<Segment> {
        let mut segment = self.get_segment(team_id, id).await?;
        if let Some(name) = segment_name(body, false)? {
            segment.name = name;
        }
        if !self.store.save_segment(&segment).await? {
            return Err(Error::NotFound("Segment"));
        }
        Ok(segment)
    }

    /// Deletes a segment; its contacts stay in the audience.
    pub async fn delete_segment(&self, team_id: TeamId, id: SegmentId) -> Result<()> {
        if self.store.delete_segment(team_id, id).await? { Ok(()) } else { Err(Error::NotFound("Segment")) }
    }

    /// Adds a contact to a segment (adding a member again changes nothing).
    pub async fn add_contact_to_segment(&self, team_id: TeamId, contact: &str, segment: SegmentId) -> Result<Contact> {
        let contact = self.find_contact(team_id, contact).await?;
        self.get_segment(team_id, segment).await?;
        self.store.add_to_segment(team_id, segment, contact.id, self.clock.now()).await?;
        Ok(contact)
    }

    /// Takes a contact out of a segment; 404 if it was not in it.
    pub async fn remove_contact_from_segment(
        &self,
        team_id: TeamId,
        contact: &str,
        segment: SegmentId,
    ) -> Result<Contact> {
        let contact = self.find_contact(team_id, contact).await?;
        self.get_segment(team_id, segment).await?;
        if !self.store.remove_from_segment(team_id, segment, contact.id).await? {
            return Err(Error::NotFound("Contact in this segment"));
        }
        Ok(contact)
    }

    /// How many contacts each segment of the team holds (segments absent: none).
    pub async fn segment_sizes(&self, team_id: TeamId) -> Result<Vec<(SegmentId, u64)>> {
        self.store.segment_sizes(team_id).await
    }

    /// The segments a contact is in, each with when the contact was added.
    pub async fn contact_segments(
        &self,
        team_id: TeamId,
        contact: &str,
        page: PageRequest,
    ) -> Result<Page<(Segment, Timestamp)>> {
        let contact = self.find_contact(team_id, contact).await?;
        self.store.contact_segments(team_id, contact.id, &page).await
    }
}
