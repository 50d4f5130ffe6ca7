//! The template lifecycle: create (a draft), read by id or alias, list, update the
//! draft, publish it, duplicate, delete.

use serde_json::Value;

use super::{
    Template, Version,
    input::{TemplateFields, apply, check_placeholders},
};
use crate::{
    Error, Postline, Result,
    ids::{TeamId, TemplateId},
    pagination::{Page, PageRequest},
};

/// How a path names a template: its id, or its alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateRef {
    Id(TemplateId),
    Alias(String),
}

impl TemplateRef {
    pub fn parse(raw: &str) -> Self {
        match uuid::Uuid::parse_str(raw.trim()) {
            Ok(id) => TemplateRef::Id(TemplateId(id)),
            Err(_) => TemplateRef::Alias(raw.trim().to_string()),
        }
    }
}

fn alias_taken(alias: &str) -> Error {
    Error::Conflict(format!("Another template already has the alias `{alias}`."))
}

impl Postline {
    /// `POST /templates`: a new template, as a draft.
    pub async fn create_template(&self, team_id: TeamId, body: &Value) -> Result<Template> {
        let fields = TemplateFields::parse(body)?;
        let name = fields.name.clone().ok_or_else(|| Error::missing("name"))?;
        if fields.html.is_none() {
            return Err(Error::missing("html"));
        }
        let now = self.clock.now();
        let empty = Version {
            id: uuid::Uuid::now_v7(),
            from: None,
            subject: None,
            reply_to: None,
            html: String::new(),
            text: None,
            variables: Vec::new(),
        };
        let draft = apply(&empty, &fields, None, now);
        check_placeholders(&draft)?;
        let template = Template {
            id: TemplateId::new(),
            team_id,
            name,
            alias: fields.alias.clone().flatten(),
            draft,
            published: None,
            published_at: None,
            created_at: now,
            updated_at: now,
        };
        if !self.store.insert_template(&template).await? {
            return Err(alias_taken(template.alias.as_deref().unwrap_or_default()));
        }
        Ok(template)
    }

    pub async fn get_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<Template> {
        self.store.get_template(team_id, by).await?.ok_or(Error::NotFound("Template"))
    }

    pub async fn list_templates(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Template>> {
        self.store.list_templates(team_id, &page).await
    }

    /// `PATCH /templates/{id}`: changes the draft; the published version stays what
    /// is sent until the next publish.
    pub async fn update_template(&self, team_id: TeamId, by: &TemplateRef, body: &Value) -> Result<Template> {
        let fields = TemplateFields::parse(body)?;
        let mut template = self.get_template(team_id, by).await?;
        let now = self.clock.now();
        // Editing a published draft starts a new version.
        let new_version = template.published.as_ref().is_some_and(|p| p.id == template.draft.id);
        template.draft = apply(&template.draft, &fields, new_version.then(uuid::Uuid::now_v7), now);
        check_placeholders(&template.draft)?;
        if let Some(name) = fields.name {
            template.name = name;
        }
        if let Some(alias) = fields.alias {
            template.alias = alias;
        }
        template.updated_at = now;
        if !self.store.save_template(&template).await? {
            return Err(alias_taken(template.alias.as_deref().unwrap_or_default()));
        }
        Ok(template)
    }

    /// `POST /templates/{id}/publish`: the draft becomes what sends use.
    pub async fn publish_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<Template> {
        let mut template = self.get_template(team_id, by).await?;
        check_placeholders(&template.draft)?;
        let now = self.clock.now();
        template.published = Some(template.draft.clone());
        template.published_at = Some(now);
        template.updated_at = now;
        self.store.save_template(&template).await?;
        Ok(template)
    }

    /// `POST /templates/{id}/duplicate`: a new draft with the draft's content, named
    /// "… (copy)", without the alias (aliases are unique).
    pub async fn duplicate_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<Template> {
        let original = self.get_template(team_id, by).await?;
        let now = self.clock.now();
        let copy = Template {
            id: TemplateId::new(),
            team_id,
            name: format!("{} (copy)", original.name),
            alias: None,
            draft: Version { id: uuid::Uuid::now_v7(), ..original.draft },
            published: None,
            published_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_template(&copy).await?;
        Ok(copy)
    }

    /// `DELETE /templates/{id}`: emails already sent with it keep their content.
    pub async fn delete_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<TemplateId> {
        let template = self.get_template(team_id, by).await?;
        if !self.store.delete_template(team_id, template.id).await? {
            return Err(Error::NotFound("Template"));
        }
        Ok(template.id)
    }
}
