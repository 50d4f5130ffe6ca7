//! The Topics page: the team's topics (default subscription, visibility on the
//! preferences page), the form that creates one (`POST /topics`), each topic's edit
//! page (`PATCH /topics/{id}`: name, description, visibility — the default
//! subscription is fixed once created, as core says) and a delete confirmation.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    audience::{Subscription, Topic},
    ids::TopicId,
    pagination::PageRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Area,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{input, select},
    format::time,
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, csrf_refusal},
};

#[derive(Deserialize, Default)]
pub struct TopicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    default_subscription: String,
    #[serde(default)]
    visibility: String,
}

impl TopicForm {
    fn of(topic: &Topic) -> Self {
        TopicForm {
            csrf: String::new(),
            name: topic.name.clone(),
            description: topic.description.clone().unwrap_or_default(),
            default_subscription: topic.default_subscription.as_str().into(),
            visibility: topic.visibility.as_str().into(),
        }
    }

    /// The body of `POST /topics` (`creating`) or `PATCH /topics/{id}`; a blank
    /// description clears it.
    fn body(&self, creating: bool) -> Value {
        let description = match self.description.trim() {
            "" => Value::Null,
            text => json!(text),
        };
        let mut body = json!({"name": self.name, "description": description, "visibility": self.visibility});
        if creating && !self.default_subscription.is_empty() {
            body["default_subscription"] = json!(self.default_subscription);
        }
        body
    }
}

/// The form's fields other than the name, each with the words core's messages use for it.
const FIELDS: [(&str, &[&str]); 3] = [
    ("description", &["`description`"]),
    ("default_subscription", &["`default_subscription`"]),
    ("visibility", &["`visibility`"]),
];

/// Core's refusal of a topic form, on the field it names (the name unless another).
fn refusal(error: Error) -> Result<FieldError, Error> {
    FieldError::from_core("name", error).map(|refusal| FieldError::on_mentioned(refusal.message, &FIELDS, "name"))
}

fn words(subscription: Subscription) -> &'static str {
    match subscription {
        Subscription::OptIn => "Subscribed (opt-in)",
        Subscription::OptOut => "Not subscribed (opt-out)",
    }
}

fn visibility_options() -> Vec<(String, String)> {
    vec![
        ("public".into(), "Public: every contact sees it on the preferences page".into()),
        ("private".into(), "Private: only contacts opted in see it".into()),
    ]
}

/// The fields both forms share.
fn common_fields(form: &TopicForm, error: Option<&FieldError>) -> Markup {
    html! {
        (input("text", "name", "Name", &form.name, Some("At most 50 characters; recipients see it."), FieldError::on(error, "name")))
        (input("text", "description", "Description (optional)", &form.description, Some("At most 200 characters."), FieldError::on(error, "description")))
        (select("visibility", "Visibility", &visibility_options(), &form.visibility, None, FieldError::on(error, "visibility")))
    }
}

/// `GET /dashboard/audience/topics`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    let form = TopicForm { default_subscription: "opt_in".into(), visibility: "public".into(), ..TopicForm::default() };
    render_list(&state, &viewer, &form, None).await
}

async fn render_list(state: &DashboardState, viewer: &Viewer, form: &TopicForm, error: Option<FieldError>) -> Response {
    let topics =
        match state.postline.list_topics(viewer.team_id(), PageRequest { limit: 100, ..Default::default() }).await {
            Ok(found) => found.items,
            Err(error) => return failure(error),
        };
    let error = error.as_ref();
    let defaults = [
        ("opt_in".to_string(), words(Subscription::OptIn).to_string()),
        ("opt_out".to_string(), words(Subscription::OptOut).to_string()),
    ];
    let content = html! {
        h1 { "Topics" }
        (subnav(Area::Topics))
        p { "Topics let recipients choose which of your emails they get; a broadcast can be sent about one topic." }
        @if topics.is_empty() {
            p.empty { "No topics yet." }
        } @else {
            div.scroll {
                table.list {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Default" } th scope="col" { "Visibility" } th scope="col" { "Created" } } }
                    tbody {
                        @for t in &topics {
                            tr {
                                td { a href={ "/dashboard/audience/topics/" (t.id) } { (t.name) } @if let Some(d) = &t.description { br; span.muted { (d) } } }
                                td { (words(t.default_subscription)) }
                                td { (t.visibility.as_str()) }
                                td { (time(t.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-title" {
            h2 #create-title { "Create a topic" }
            form.stacked method="post" action="/dashboard/audience/topics" novalidate {
                input type="hidden" name="csrf" value=(viewer.csrf());
                (common_fields(form, error))
                (select("default_subscription", "Default subscription", &defaults, &form.default_subscription,
                    Some("What contacts who never chose get. It cannot be changed later."), FieldError::on(error, "default_subscription")))
                button.primary type="submit" { "Create topic" }
            }
        }
    };
    let response = layout::page("Topics", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/topics`
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<TopicForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match state.postline.create_topic(viewer.team_id(), &form.body(true)).await {
        Ok(_) => Redirect::to("/dashboard/audience/topics").into_response(),
        Err(error) => match refusal(error) {
            Ok(refusal) => render_list(&state, &viewer, &form, Some(refusal)).await,
            Err(other) => failure(other),
        },
    }
}

async fn topic(state: &DashboardState, viewer: &Viewer, id: &str) -> Result<Topic, Error> {
    state.postline.get_topic(viewer.team_id(), TopicId::parse(id)?).await
}

fn render_edit(viewer: &Viewer, topic: &Topic, form: &TopicForm, error: Option<FieldError>) -> Response {
    let error = error.as_ref();
    let content = html! {
        p { a href="/dashboard/audience/topics" { "← Topics" } }
        h1 { "Topic: " (topic.name) }
        (subnav(Area::Topics))
        form.stacked method="post" action={ "/dashboard/audience/topics/" (topic.id) } novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (common_fields(form, error))
            p { "Default subscription: " strong { (words(topic.default_subscription)) } span.muted { " — fixed once created, so contacts who never chose do not silently change sides." } }
            button.primary type="submit" { "Save topic" }
        }
        details.confirm {
            summary { "Delete this topic" }
            form.inline method="post" action={ "/dashboard/audience/topics/" (topic.id) "/delete" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                span { "Every contact's choice about it is forgotten." }
                button.danger type="submit" { "Delete topic " (topic.name) }
            }
        }
    };
    let response = layout::page(&topic.name, viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `GET /dashboard/audience/topics/{id}`
pub async fn edit(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    match topic(&state, &viewer, &id).await {
        Ok(topic) => render_edit(&viewer, &topic, &TopicForm::of(&topic), None),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/audience/topics/{id}`
pub async fn update(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TopicForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let current = match topic(&state, &viewer, &id).await {
        Ok(topic) => topic,
        Err(error) => return failure(error),
    };
    match state.postline.update_topic(viewer.team_id(), current.id, &form.body(false)).await {
        Ok(_) => Redirect::to("/dashboard/audience/topics").into_response(),
        Err(error) => match refusal(error) {
            Ok(refusal) => render_edit(&viewer, &current, &form, Some(refusal)),
            Err(other) => failure(other),
        },
    }
}

/// `POST /dashboard/audience/topics/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let deleted = match TopicId::parse(&id) {
        Ok(id) => state.postline.delete_topic(viewer.team_id(), id).await,
        Err(error) => Err(error),
    };
    match deleted {
        Ok(()) => Redirect::to("/dashboard/audience/topics").into_response(),
        Err(error) => failure(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_become_the_api_bodies() {
        let form = TopicForm {
            name: "News".into(),
            description: " ".into(),
            default_subscription: "opt_out".into(),
            visibility: "public".into(),
            ..TopicForm::default()
        };
        assert_eq!(
            form.body(true),
            json!({"name": "News", "description": null, "visibility": "public", "default_subscription": "opt_out"})
        );
        assert!(form.body(false).get("default_subscription").is_none(), "fixed once created");
        let field = |message: &str| refusal(Error::value(message)).unwrap().field;
        assert_eq!(field("The `description` must be at most 200 characters."), "description");
        assert_eq!(field("Missing `name` field."), "name");
    }
}
