//! Authentication and rate limiting, as one middleware on every API route:
//! `Authorization: Bearer re_…` → the caller's [`Principal`], counted against its
//! team's rate limit, with the `ratelimit-*` headers added to the response.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use postline_core::{Error, api_keys::Principal, request_logs::RequestLog};

use crate::{AppState, error::ApiError, rate_limit::Quota};

/// Authenticates the request and applies the team's rate limit; every request a key
/// was found for is then logged (buffered, never waited for: see
/// `postline_core::request_logs`).
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let principal = match principal_of(&state, request.headers()).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let entry = LogStart::of(&state, &request, &principal);
    let quota = state.rate_limiter.check(principal.team_id);
    let mut response = if quota.allowed {
        request.extensions_mut().insert(principal);
        next.run(request).await
    } else {
        ApiError::from(Error::RateLimited { retry_after_secs: quota.reset }).into_response()
    };
    add_quota_headers(response.headers_mut(), quota);
    state.request_logs.record(entry.finish(response.status(), started.elapsed()));
    response
}

/// What is known of a request's log entry before it is handled.
struct LogStart(RequestLog);

impl LogStart {
    fn of(state: &AppState, request: &Request, principal: &Principal) -> Self {
        let agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        // The path only: a query string may carry secrets.
        LogStart(RequestLog::new(
            principal.team_id,
            principal.key_id,
            request.method().as_str(),
            request.uri().path(),
            0,
            agent,
            std::time::Duration::ZERO,
            state.postline.clock().now(),
        ))
    }

    fn finish(self, status: StatusCode, took: std::time::Duration) -> RequestLog {
        RequestLog {
            status: status.as_u16(),
            duration_ms: u32::try_from(took.as_millis()).unwrap_or(u32::MAX),
            ..self.0
        }
    }
}

async fn principal_of(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_api_key",
            "Missing API key in the authorization header. Include `Authorization: Bearer re_…`.",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_api_key",
            "Missing API key in the authorization header. Include `Authorization: Bearer re_…`.",
        ));
    };
    state
        .postline
        .authenticate(token)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "invalid_api_key", "API key is invalid."))
}

fn add_quota_headers(headers: &mut HeaderMap, quota: Quota) {
    headers.insert("ratelimit-limit", HeaderValue::from(quota.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(quota.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(quota.reset));
}

/// The authenticated caller, for handlers.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Principal>().cloned().map(Caller).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "missing_api_key", "Missing API key in the authorization header.")
        })
    }
}

/// The authenticated caller, which must hold a `full_access` key.
pub struct Manager(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        principal.require_full_access()?;
        Ok(Manager(principal))
    }
}
