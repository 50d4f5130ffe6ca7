//! Who is signed in: the session cookie (`HttpOnly`, `SameSite=Lax`, `Secure` behind
//! HTTPS, scoped to `/dashboard`), the [`Viewer`] extractor every page takes (no
//! session → the sign-in page, coming back afterwards), and the CSRF check every form
//! submission passes before it changes anything.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use postline_core::users::{Role, SignedIn};

use crate::{DashboardState, layout};

/// The session cookie.
pub const COOKIE: &str = "postline_session";
/// The sign-in form's CSRF cookie (double submit: there is no session yet).
pub const LOGIN_COOKIE: &str = "postline_login";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form that carries nothing but its CSRF token (sign out, verify, delete…).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// The signed-in user of a page request.
pub struct Viewer(pub SignedIn);

impl Viewer {
    pub fn team_id(&self) -> postline_core::ids::TeamId {
        self.0.user.team_id
    }

    pub fn is_admin(&self) -> bool {
        self.0.user.role == Role::Admin
    }

    pub fn csrf(&self) -> &str {
        &self.0.session.csrf
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Where the sign-in page sends someone back to: only paths of the dashboard itself,
/// so the parameter cannot be used to redirect elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/dashboard/") && !path.starts_with("//") && !path.contains("\\") => {
            path.to_string()
        }
        _ => "/dashboard/emails".to_string(),
    }
}

impl FromRequestParts<DashboardState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &DashboardState) -> Result<Self, Response> {
        let token = cookie(&parts.headers, COOKIE).unwrap_or_default();
        match state.postline.session_user(&token).await {
            Ok(Some(signed_in)) => Ok(Viewer(signed_in)),
            Ok(None) => {
                let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/dashboard/emails");
                Err(Redirect::to(&format!("/dashboard/login?next={}", percent(here))).into_response())
            }
            Err(error) => {
                tracing::error!(%error, "could not read a dashboard session");
                Err(layout::error_page(StatusCode::SERVICE_UNAVAILABLE, "Postline could not read your session."))
            }
        }
    }
}

/// The refusal for a form whose CSRF token is not the session's; `None` lets it through.
pub fn csrf_refusal(viewer: &Viewer, submitted: &str) -> Option<Response> {
    if same_secret(viewer.csrf(), submitted) {
        None
    } else {
        Some(layout::error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this dashboard. Reload the page and try again.",
        ))
    }
}

/// The refusal for a member on an admin-only page (the reference: admins manage keys
/// and exports); `None` for an admin.
pub fn admin_refusal(viewer: &Viewer) -> Option<Response> {
    (!viewer.is_admin())
        .then(|| layout::error_page(StatusCode::FORBIDDEN, "Only admins of this team can open this page."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; postline_session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn next_stays_inside_the_dashboard() {
        assert_eq!(safe_next(Some("/dashboard/emails/1?x=2")), "/dashboard/emails/1?x=2");
        assert_eq!(safe_next(Some("https://evil.example/")), "/dashboard/emails");
        assert_eq!(safe_next(Some("//evil.example/dashboard/")), "/dashboard/emails");
        assert_eq!(safe_next(None), "/dashboard/emails");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
