//! Step two of an import: each column of the uploaded file's header mapped to a
//! contact field (`email`, `first_name`, `last_name`, `unsubscribed`), one of the
//! team's custom properties or nothing — first guessed from the header's names — with
//! an optional segment, whether existing contacts are updated, and a preview of the
//! first rows. Starting it builds the fields `POST /contacts/imports` takes
//! (`column_map`, `segments`, `on_conflict`) and queues the stored draft through
//! core, which checks them as it checks the API's.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    audience::{ContactProperty, PropertyType, Segment},
    ids::ContactImportId,
    pagination::PageRequest,
};
use serde_json::{Map, Value, json};

use super::{Area, FieldError, file_size, notes, refused, subnav};
use crate::{
    DashboardState,
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// What the form holds; empty `columns` means "guess from the header".
#[derive(Default)]
pub struct Chosen {
    csrf: String,
    /// The target of each column, by position (`column.{i}` fields).
    columns: Vec<(usize, String)>,
    segment: String,
    update_existing: bool,
}

impl Chosen {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut chosen = Chosen::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => chosen.csrf = value,
                "segment" => chosen.segment = value,
                "update_existing" => chosen.update_existing = true,
                _ => {
                    if let Some(at) = name.strip_prefix("column.").and_then(|i| i.parse().ok()) {
                        chosen.columns.push((at, value));
                    }
                }
            }
        }
        chosen
    }

    fn target(&self, at: usize) -> Option<&str> {
        self.columns.iter().find(|(i, _)| *i == at).map(|(_, t)| t.as_str())
    }
}

/// A header name reduced to its letters and digits, lower case.
fn plain(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

/// The target a header name suggests (`""`: ignore).
fn guess_one(name: &str, properties: &[ContactProperty]) -> String {
    let plain = plain(name);
    let field = match plain.as_str() {
        "email" | "emailaddress" | "mail" | "address" | "emails" => "email",
        "firstname" | "first" | "givenname" | "fname" | "forename" => "first_name",
        "lastname" | "last" | "surname" | "familyname" | "lname" => "last_name",
        "unsubscribed" | "unsubscribe" | "optedout" | "optout" => "unsubscribed",
        _ => {
            return properties
                .iter()
                .find(|p| plain == self::plain(&p.key))
                .map(|p| format!("property:{}", p.key))
                .unwrap_or_default();
        }
    };
    field.to_string()
}

/// Targets for every column from the header's names; each target goes to the first
/// column that suggests it.
fn guess(header: &[String], properties: &[ContactProperty]) -> Vec<(usize, String)> {
    let mut taken: Vec<String> = Vec::new();
    header
        .iter()
        .enumerate()
        .map(|(at, name)| {
            let target = guess_one(name, properties);
            if target.is_empty() || taken.contains(&target) {
                return (at, String::new());
            }
            taken.push(target.clone());
            (at, target)
        })
        .collect()
}

/// The fields `POST /contacts/imports` takes, or why the mapping cannot be one.
fn fields(
    header: &[String],
    chosen: &Chosen,
    properties: &[ContactProperty],
) -> Result<Map<String, Value>, FieldError> {
    let mut map = Map::new();
    let mut mapped_properties = Map::new();
    for (at, name) in header.iter().enumerate() {
        let target = chosen.target(at).unwrap_or("");
        if target.is_empty() {
            continue;
        }
        let taken = map.contains_key(target)
            || target.strip_prefix("property:").is_some_and(|k| mapped_properties.contains_key(k));
        if taken {
            let label = target.strip_prefix("property:").unwrap_or(target);
            return Err(FieldError::new(
                &format!("column.{at}"),
                format!("“{label}” is already chosen for another column; map each field once."),
            ));
        }
        match target.strip_prefix("property:") {
            Some(key) => {
                let Some(property) = properties.iter().find(|p| p.key == key) else {
                    return Err(FieldError::new(
                        &format!("column.{at}"),
                        format!("`{key}` is not a contact property of this team."),
                    ));
                };
                mapped_properties
                    .insert(key.to_string(), json!({"column": name, "type": property.property_type.as_str()}));
            }
            None if ["email", "first_name", "last_name", "unsubscribed"].contains(&target) => {
                map.insert(target.to_string(), json!(name));
            }
            None => {
                return Err(FieldError::new(&format!("column.{at}"), format!("`{target}` is not a contact field.")));
            }
        }
    }
    if !map.contains_key("email") {
        return Err(FieldError::new("column.0", "Choose the column that holds the email addresses."));
    }
    if !mapped_properties.is_empty() {
        map.insert("properties".into(), Value::Object(mapped_properties));
    }
    let mut fields = Map::new();
    fields.insert("column_map".into(), json!(Value::Object(map).to_string()));
    fields.insert("on_conflict".into(), json!(if chosen.update_existing { "upsert" } else { "skip" }));
    if !chosen.segment.trim().is_empty() {
        fields.insert("segments".into(), json!(json!([chosen.segment.trim()]).to_string()));
    }
    Ok(fields)
}

fn targets(properties: &[ContactProperty]) -> Vec<(String, String)> {
    let mut targets: Vec<(String, String)> = [
        ("", "Do not import"),
        ("email", "Email"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("unsubscribed", "Unsubscribed"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    for p in properties {
        let kind = if p.property_type == PropertyType::Number { "number" } else { "text" };
        targets.push((format!("property:{}", p.key), format!("Property {} ({kind})", p.key)));
    }
    targets
}

/// The mapping page for a draft (404 for another team's or an unknown one).
pub async fn page(
    state: &DashboardState,
    viewer: &Viewer,
    id: ContactImportId,
    chosen: &Chosen,
    error: Option<FieldError>,
) -> Response {
    let team = viewer.team_id();
    let loaded = async {
        let draft = state.postline.contact_import_draft(team, id).await?;
        let all = || PageRequest { limit: 100, ..Default::default() };
        let properties = state.postline.list_contact_properties(team, all()).await?.items;
        let segments = state.postline.list_segments(team, all()).await?.items;
        Ok::<_, Error>((draft, properties, segments))
    }
    .await;
    let (draft, properties, segments): (_, Vec<ContactProperty>, Vec<Segment>) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let guessed;
    let columns = if chosen.columns.is_empty() {
        guessed = guess(&draft.header, &properties);
        &guessed
    } else {
        &chosen.columns
    };
    let target_of = |at: usize| columns.iter().find(|(i, _)| *i == at).map_or("", |(_, t)| t.as_str());
    let options = targets(&properties);
    let error = error.as_ref();
    let segment_error = FieldError::on(error, "segment");
    let content = html! {
        p { a href="/dashboard/audience/import" { "← Import" } }
        h1 { "Map the file's columns" }
        (subnav(Area::Contacts))
        ol.steps aria-label="Steps" { li { "Upload" } li aria-current="step" { "Map columns" } li { "Import" } }
        p.muted { "The file has " (draft.header.len()) " columns (" (file_size(draft.import.file_bytes)) "). Choose what each one holds; the email column is required." }
        form.stacked.wide method="post" action={ "/dashboard/audience/import/" (id) } novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.scroll {
                table.list.mapping {
                    thead { tr { th scope="col" { "Column in the file" } th scope="col" { "Import as" } th scope="col" { "First values" } } }
                    tbody {
                        @for (at, name) in draft.header.iter().enumerate() {
                            @let field = format!("column.{at}");
                            @let message = FieldError::on(error, &field);
                            tr {
                                th scope="row" { label for=(field) { (name) } }
                                td {
                                    select id=(field) name=(field) aria-invalid=[message.map(|_| "true")]
                                        aria-describedby=[message.map(|_| format!("{field}-error"))] {
                                        @for (value, label) in &options { option value=(value) selected[target_of(at) == value] { (label) } }
                                    }
                                    (notes(&field, None, message))
                                }
                                td.muted { (draft.rows.iter().filter_map(|r| r.get(at)).filter(|c| !c.is_empty()).take(3).cloned().collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
            div.field {
                label for="segment" { "Add to segment (optional)" }
                select #segment name="segment" aria-invalid=[segment_error.map(|_| "true")] aria-describedby=[segment_error.map(|_| "segment-error")] {
                    option value="" { "No segment" }
                    @for s in &segments { option value=(s.id) selected[chosen.segment == s.id.to_string()] { (s.name) } }
                }
                (notes("segment", None, segment_error))
            }
            div.field.check {
                input #update_existing type="checkbox" name="update_existing" value="on" checked[chosen.update_existing] aria-describedby="update_existing-hint";
                label for="update_existing" { "Update contacts that already exist" }
                (notes("update_existing", Some("Otherwise rows whose address is already a contact are skipped."), None))
            }
            h2 { "Preview" }
            @if draft.rows.is_empty() {
                p.empty { "The file has a header but no rows yet." }
            } @else {
                div.scroll {
                    table.list.preview {
                        caption.visually-hidden { "The first rows of the file" }
                        thead { tr { @for name in &draft.header { th scope="col" { (name) } } } }
                        tbody { @for row in &draft.rows { tr { @for cell in row { td { (cell) } } } } }
                    }
                }
            }
            button.primary type="submit" { "Import contacts" }
        }
    };
    let response = layout::page("Map columns", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/import/{id}`: queues the draft with its mapping.
pub async fn start(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let chosen = Chosen::from(pairs);
    if let Some(refused) = csrf_refusal(&viewer, &chosen.csrf) {
        return refused;
    }
    let team = viewer.team_id();
    let loaded = async {
        let id = ContactImportId::parse(&id)?;
        let draft = state.postline.contact_import_draft(team, id).await?;
        let properties =
            state.postline.list_contact_properties(team, PageRequest { limit: 100, ..Default::default() }).await?;
        Ok::<_, Error>((id, draft.header, properties.items))
    }
    .await;
    let (id, header, properties) = match loaded {
        Ok(loaded) => loaded,
        // Started already (the form sent twice): its progress is what to see.
        Err(Error::Conflict(_)) => return Redirect::to(&format!("/dashboard/audience/import/{id}")).into_response(),
        Err(error) => return failure(error),
    };
    let fields = match fields(&header, &chosen, &properties) {
        Ok(fields) => fields,
        Err(refusal) => return page(&state, &viewer, id, &chosen, Some(refusal)).await,
    };
    match state.postline.start_contact_import(team, id, &fields).await {
        Ok(_) => Redirect::to(&format!("/dashboard/audience/import/{id}")).into_response(),
        Err(Error::NotFound("Segment")) => {
            let refusal = FieldError::new("segment", "This segment no longer exists; choose another.");
            page(&state, &viewer, id, &chosen, Some(refusal)).await
        }
        Err(error) => match FieldError::from_core("column.0", error) {
            Ok(refusal) => page(&state, &viewer, id, &chosen, Some(refusal)).await,
            Err(other) => failure(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(key: &str, property_type: PropertyType) -> ContactProperty {
        ContactProperty {
            id: postline_core::ids::ContactPropertyId::new(),
            team_id: postline_core::ids::TeamId::new(),
            key: key.into(),
            property_type,
            fallback_value: Value::Null,
            created_at: chrono::Utc::now(),
        }
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn targets_are_guessed_from_header_names_once_each() {
        let properties = [property("company_name", PropertyType::String)];
        let guessed =
            guess(&header(&["E-mail Address", "First Name", "Surname", "Company Name", "Notes", "email"]), &properties);
        let targets: Vec<&str> = guessed.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(targets, ["email", "first_name", "last_name", "property:company_name", "", ""]);
    }

    #[test]
    fn the_mapping_becomes_the_apis_fields() {
        let properties = [property("seats", PropertyType::Number)];
        let file = header(&["Mail", "Seats", "Notes"]);
        let chosen = |columns: &[(usize, &str)], segment: &str| Chosen {
            columns: columns.iter().map(|(i, t)| (*i, t.to_string())).collect(),
            segment: segment.into(),
            update_existing: true,
            ..Chosen::default()
        };
        let fields =
            fields(&file, &chosen(&[(0, "email"), (1, "property:seats"), (2, "")], "s1"), &properties).unwrap();
        let map: Value = serde_json::from_str(fields["column_map"].as_str().unwrap()).unwrap();
        assert_eq!(map, json!({"email": "Mail", "properties": {"seats": {"column": "Seats", "type": "number"}}}));
        assert_eq!(fields["on_conflict"], "upsert");
        assert_eq!(fields["segments"], "[\"s1\"]");

        let twice = super::fields(&file, &chosen(&[(0, "email"), (2, "email")], ""), &properties).unwrap_err();
        assert_eq!(twice.field, "column.2");
        let none = super::fields(&file, &chosen(&[(1, "first_name")], ""), &properties).unwrap_err();
        assert!(none.message.contains("email"));
        assert!(super::fields(&file, &chosen(&[(0, "email"), (1, "property:plan")], ""), &properties).is_err());
    }
}
