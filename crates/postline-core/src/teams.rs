//! Teams: the tenants. Every resource belongs to exactly one team, and every
//! store query is scoped by the team of the API key that asked.

use crate::{clock::Timestamp, ids::TeamId};

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub created_at: Timestamp,
}
