//! Unauthenticated pages opened by signed links: the read-only rendering of a
//! shared email, and attachment downloads. A bad, tampered or expired token is a
//! plain 404 that says nothing about why.

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use postline_core::{clock::api_time, emails::Email, personalise::escape_html as escape};

use crate::{AppState, error::ApiError, extract::Params};

/// `GET /shared?token=…`
pub async fn shared_email(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let token = params.0.get("token").map(String::as_str).unwrap_or_default();
    let (email, attachments) = state.postline.shared_email(token).await?;
    // The email's own HTML runs in a sandboxed iframe; the page itself runs nothing.
    Ok(link_page(
        Html(render(&email, &attachments)).into_response(),
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; frame-src 'self'",
    ))
}

/// What every HTML page opened by a signed link sends with it: its content security
/// policy, no `Referer` (the token is in the URL) and no indexing.
pub(crate) fn link_page(mut response: Response, content_security_policy: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(content_security_policy));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

/// `GET /downloads/attachments?token=…`
pub async fn download(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let token = params.0.get("token").map(String::as_str).unwrap_or_default();
    let (attachment, content) = state.postline.download_attachment(token).await?;
    let filename = attachment.filename.unwrap_or_else(|| attachment.id.to_string());
    Ok(file_response(content, &attachment.content_type, &filename))
}

/// `GET /downloads/received/raw?token=…`: a received email's source, as received.
pub async fn download_received_raw(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let token = params.0.get("token").map(String::as_str).unwrap_or_default();
    let raw = state.postline.download_received_raw(token).await?;
    Ok(file_response(raw, "message/rfc822", "message.eml"))
}

/// `GET /downloads/received/attachments?token=…`
pub async fn download_received_attachment(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let token = params.0.get("token").map(String::as_str).unwrap_or_default();
    let (attachment, content) = state.postline.download_received_attachment(token).await?;
    let filename = attachment.filename.unwrap_or_else(|| attachment.id.to_string());
    Ok(file_response(content, &attachment.content_type, &filename))
}

/// A download: the bytes with their type, always saved rather than shown (a
/// received HTML attachment must not run on Postline's origin), never sniffed.
fn file_response(content: Vec<u8>, content_type: &str, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", filename.replace(['"', '\\', '\r', '\n'], "_"));
    let mut response = (StatusCode::OK, content).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn render(email: &Email, attachments: &[postline_core::emails::Attachment]) -> String {
    let row = |label: &str, value: &str| format!("<tr><th>{label}</th><td>{}</td></tr>", escape(value));
    let mut rows = vec![row("From", &email.from), row("To", &email.to.join(", "))];
    if !email.cc.is_empty() {
        rows.push(row("Cc", &email.cc.join(", ")));
    }
    rows.push(row("Subject", &email.subject));
    rows.push(row("Date", &api_time(email.created_at)));
    rows.push(row("Status", email.last_event.as_str()));
    let body = match (&email.html, &email.text) {
        (Some(html), _) => format!("<iframe sandbox title=\"Email body\" srcdoc=\"{}\"></iframe>", escape(html)),
        (None, Some(text)) => format!("<pre>{}</pre>", escape(text)),
        (None, None) => "<p><em>This email has no body.</em></p>".to_string(),
    };
    let files: String = attachments
        .iter()
        .map(|a| {
            let name = a.filename.clone().unwrap_or_else(|| a.id.to_string());
            format!("<li>{} <small>({}, {} bytes)</small></li>", escape(&name), escape(&a.content_type), a.size)
        })
        .collect();
    let files = if files.is_empty() { String::new() } else { format!("<h2>Attachments</h2><ul>{files}</ul>") };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{subject}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#111}}\
         th{{text-align:left;padding-right:1rem;color:#555;font-weight:500}}\
         iframe{{width:100%;min-height:40rem;border:1px solid #ddd;border-radius:6px}}\
         pre{{white-space:pre-wrap;border:1px solid #ddd;border-radius:6px;padding:1rem}}</style></head>\
         <body><h1>{subject}</h1><table>{rows}</table>{body}{files}\
         <p><small>Shared read-only from Postline.</small></p></body></html>",
        subject = escape(&email.subject),
        rows = rows.join(""),
    )
}
