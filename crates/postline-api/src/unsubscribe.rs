//! The unsubscribe link's two faces, unauthenticated and opened by its signed
//! token: `GET /unsubscribe/{token}` shows the recipient's preferences page, and
//! `POST /unsubscribe/{token}` takes either an RFC 8058 one-click unsubscribe
//! (`List-Unsubscribe=One-Click`, form-urlencoded or multipart, as mail clients send
//! it) or the page's own form. A bad, altered or expired token is a 404 page that
//! says nothing about why; a `GET` never changes anything, so link scanners that
//! open every URL in an email unsubscribe no one.

use axum::{
    extract::{FromRequest, Multipart, Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use postline_core::{Error, audience::unsubscribe::PreferenceChoice, ids::TopicId};

use crate::{
    AppState,
    preferences_page::{self, Notice},
    public::link_page,
};

/// Largest form accepted (a page lists at most 100 topics).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// `GET /unsubscribe/{token}`
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.postline.preferences(&token).await {
        Ok(preferences) => html(StatusCode::OK, preferences_page::render(&preferences, None)),
        Err(error) => failure(error),
    }
}

/// `POST /unsubscribe/{token}`
pub async fn submit(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    let fields = match form_fields(request).await {
        Ok(fields) => fields,
        Err(message) => return html(StatusCode::BAD_REQUEST, preferences_page::message_page("Bad request", &message)),
    };
    let field = |name: &str| fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    if field("List-Unsubscribe").is_some_and(|v| v.eq_ignore_ascii_case("One-Click")) {
        return match state.postline.one_click_unsubscribe(&token).await {
            Ok(preferences) => html(StatusCode::OK, preferences_page::render(&preferences, Some(Notice::Unsubscribed))),
            Err(error) => failure(error),
        };
    }
    let choice = match field("action") {
        Some("unsubscribe_all") => PreferenceChoice::UnsubscribeAll,
        Some("save") => {
            let topics: Result<Vec<TopicId>, _> =
                fields.iter().filter(|(key, _)| key == "topic").map(|(_, id)| TopicId::parse(id)).collect();
            match topics {
                Ok(topics) => PreferenceChoice::Topics(topics),
                Err(error) => return failure(error),
            }
        }
        _ => {
            let message = "Send `List-Unsubscribe=One-Click`, or submit the preferences form.";
            return html(StatusCode::BAD_REQUEST, preferences_page::message_page("Bad request", message));
        }
    };
    let notice = match choice {
        PreferenceChoice::UnsubscribeAll => Notice::Unsubscribed,
        PreferenceChoice::Topics(_) => Notice::Saved,
    };
    match state.postline.save_preferences(&token, choice).await {
        Ok(preferences) => html(StatusCode::OK, preferences_page::render(&preferences, Some(notice))),
        Err(error) => failure(error),
    }
}

/// The form's fields in order, from a urlencoded or multipart body.
async fn form_fields(request: Request) -> Result<Vec<(String, String)>, String> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &()).await.map_err(|e| e.body_text())?;
        let mut fields = Vec::new();
        while let Some(part) = form.next_field().await.map_err(|e| e.body_text())? {
            let name = part.name().unwrap_or_default().to_string();
            fields.push((name, part.text().await.map_err(|e| e.body_text())?));
        }
        return Ok(fields);
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| format!("The form is larger than {MAX_FORM_BYTES} bytes."))?;
    Ok(url::form_urlencoded::parse(&body).into_owned().collect())
}

fn failure(error: Error) -> Response {
    let (status, title, message) = match error {
        Error::NotFound("Link") => (
            StatusCode::NOT_FOUND,
            "Link not valid",
            "This unsubscribe link is not valid. Please use the link in a recent email.".to_string(),
        ),
        Error::NotFound(what) => (StatusCode::NOT_FOUND, "Not found", format!("{what} not found.")),
        Error::Invalid { message, .. } => (StatusCode::BAD_REQUEST, "Bad request", message),
        Error::Conflict(message) => (StatusCode::CONFLICT, "Please try again", message),
        other => {
            tracing::error!(error = %other, "unsubscribe request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Your request could not be saved. Please try again in a moment.".to_string(),
            )
        }
    };
    html(status, preferences_page::message_page(title, &message))
}

fn html(status: StatusCode, page: String) -> Response {
    // The page runs no script and submits only to itself.
    let mut response = link_page(
        (status, Html(page)).into_response(),
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; \
         frame-ancestors 'none'",
    );
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
