//! Signing in and out. The sign-in form has no session yet, so its CSRF token is a
//! double-submit cookie; a wrong address and a wrong password get the same answer,
//! and the session cookie is set only after the password checked out.

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use rand::{Rng, distributions::Alphanumeric};
use serde::Deserialize;

use crate::{
    DashboardState, layout,
    session::{COOKIE, CsrfOnly, LOGIN_COOKIE, Viewer, cookie, csrf_refusal, safe_next, same_secret, set_cookie},
};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// Errors shown next to their fields.
#[derive(Default)]
struct FieldErrors {
    email: Option<&'static str>,
    password: Option<&'static str>,
    form: Option<&'static str>,
}

fn form(email: &str, next: &str, csrf: &str, errors: &FieldErrors) -> Markup {
    html! {
        h1 { "Sign in to Postline" }
        @if let Some(message) = errors.form {
            p.error role="alert" { (message) }
        }
        form method="post" action="/dashboard/login" novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            div.field {
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) autocomplete="username" required
                    aria-invalid=[errors.email.map(|_| "true")] aria-describedby=[errors.email.map(|_| "email-error")];
                @if let Some(message) = errors.email { p #email-error.field-error { (message) } }
            }
            div.field {
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required
                    aria-invalid=[errors.password.map(|_| "true")]
                    aria-describedby=[errors.password.map(|_| "password-error")];
                @if let Some(message) = errors.password { p #password-error.field-error { (message) } }
            }
            button.primary type="submit" { "Sign in" }
        }
    }
}

fn new_token() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// The sign-in page with a fresh form token in its cookie.
fn render(state: &DashboardState, status: StatusCode, email: &str, next: &str, errors: &FieldErrors) -> Response {
    let token = new_token();
    let mut response = layout::bare_page(status, "Sign in", form(email, next, &token, errors));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, 3600, state.secure_cookies));
    response
}

/// `GET /dashboard/login`
pub async fn page(State(state): State<DashboardState>, headers: HeaderMap, query: Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    let token = cookie(&headers, COOKIE).unwrap_or_default();
    if let Ok(Some(_)) = state.postline.session_user(&token).await {
        return Redirect::to(&next).into_response();
    }
    render(&state, StatusCode::OK, "", &next, &FieldErrors::default())
}

/// `POST /dashboard/login`
pub async fn submit(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<SignInForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &form.csrf) {
        let errors = FieldErrors { form: Some("The form expired. Please sign in again."), ..Default::default() };
        return render(&state, StatusCode::FORBIDDEN, &form.email, &next, &errors);
    }
    let mut errors = FieldErrors::default();
    if form.email.trim().is_empty() {
        errors.email = Some("Enter your email address.");
    }
    if form.password.is_empty() {
        errors.password = Some("Enter your password.");
    }
    if errors.email.is_some() || errors.password.is_some() {
        return render(&state, StatusCode::UNPROCESSABLE_ENTITY, &form.email, &next, &errors);
    }
    match state.postline.sign_in(&form.email, &form.password).await {
        Ok(Some((_, token))) => {
            let mut response = Redirect::to(&next).into_response();
            let max_age = postline_core::users::SESSION_TTL.num_seconds();
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, set_cookie(COOKIE, &token, max_age, state.secure_cookies));
            headers.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, state.secure_cookies));
            response
        }
        Ok(None) => {
            let errors = FieldErrors { password: Some("Wrong email or password."), ..Default::default() };
            render(&state, StatusCode::UNPROCESSABLE_ENTITY, &form.email, &next, &errors)
        }
        Err(error) => {
            tracing::error!(%error, "sign-in failed");
            layout::error_page(StatusCode::SERVICE_UNAVAILABLE, "Signing in failed; please try again.")
        }
    }
}

/// `POST /dashboard/logout`
pub async fn sign_out(
    State(state): State<DashboardState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let token = cookie(&headers, COOKIE).unwrap_or_default();
    if let Err(error) = state.postline.sign_out(&token).await {
        tracing::warn!(%error, "could not end a session");
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(COOKIE, "", 0, state.secure_cookies));
    response
}
