//! Templates: reusable emails with typed variables, edited as a draft and sent from
//! the published version.
//!
//! - [`input`] validates bodies: fields, variables (`key`, `type`, typed
//!   `fallback_value`), and that every `{{{placeholder}}}` names a declared variable.
//! - [`manage`] owns the lifecycle: create (a draft), update (the draft; the published
//!   version stays as it was), publish (the draft becomes what is sent), duplicate,
//!   delete; templates are addressed by id or alias.
//! - [`render`] fills the published version with a send's `variables` (typed, with
//!   fallbacks; a variable with neither is a clear error) and expands `POST /emails`'s
//!   `template` into the ordinary fields, so everything after is an ordinary send.

pub mod input;
pub mod manage;
pub mod render;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    clock::Timestamp,
    ids::{TeamId, TemplateId},
};

/// The type of a template variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableType {
    String,
    Number,
    Boolean,
    Object,
    List,
}

impl VariableType {
    pub fn as_str(self) -> &'static str {
        match self {
            VariableType::String => "string",
            VariableType::Number => "number",
            VariableType::Boolean => "boolean",
            VariableType::Object => "object",
            VariableType::List => "list",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::String, Self::Number, Self::Boolean, Self::Object, Self::List].into_iter().find(|t| t.as_str() == raw)
    }

    /// Whether `value` is of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            VariableType::String => value.is_string(),
            VariableType::Number => value.is_number(),
            VariableType::Boolean => value.is_boolean(),
            VariableType::Object => value.is_object(),
            VariableType::List => value.is_array(),
        }
    }
}

/// A declared variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub id: uuid::Uuid,
    pub key: String,
    #[serde(rename = "type")]
    pub kind: VariableType,
    /// Used when a send gives no value (`None`: the send must give one).
    pub fallback_value: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One version of a template's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub id: uuid::Uuid,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Option<Vec<String>>,
    pub html: String,
    pub text: Option<String>,
    pub variables: Vec<Variable>,
}

/// A template: its draft (what is edited) and, once published, what is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: TemplateId,
    pub team_id: TeamId,
    pub name: String,
    /// Unique in the team; usable wherever the id is.
    pub alias: Option<String>,
    pub draft: Version,
    pub published: Option<Version>,
    pub published_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Template {
    /// `published` once a version was published, else `draft`.
    pub fn status(&self) -> &'static str {
        if self.published.is_some() { "published" } else { "draft" }
    }

    /// Whether the draft holds changes not yet published.
    pub fn has_unpublished_changes(&self) -> bool {
        self.published.as_ref().is_none_or(|p| p.id != self.draft.id)
    }
}
