//! The HTTP API: routes, handlers, request metrics and tracing.

pub mod auth;
pub mod error;
pub mod openapi;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, ToSchema};

use self::auth::Tokens;
use self::error::{ApiError, Problem, PROBLEM_JSON};
use self::openapi::V1Errors;
use crate::feed::{ChangePage, Feed};
use crate::metrics::Metrics;
use crate::store::{RoleCatalog, Store, User};
use crate::verify::{Outcome, Verifier};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub verifier: Arc<Verifier>,
    pub metrics: Metrics,
    pub max_page_size: u32,
    /// The change feed; `None` when no change log is configured.
    pub feed: Option<Arc<Feed>>,
}

/// Query-string extractor whose rejections are problem+json.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path extractor whose rejections are problem+json.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// JSON body extractor whose rejections are problem+json.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Builds the router with all routes and layers.
pub fn router(state: AppState, tokens: Tokens, body_limit: usize) -> Router {
    let v1 = Router::new()
        .route("/users", get(search_users))
        .route("/users/count", get(count_users))
        .route("/users/by-username/{username}", get(user_by_username))
        .route("/users/by-email/{email}", get(user_by_email))
        .route("/users/{id}", get(user_by_id))
        .route("/users/{id}/verify-password", post(verify_password))
        .route("/roles", get(roles))
        .route("/changes", get(changes))
        .route_layer(middleware::from_fn_with_state(tokens, auth::require_token));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(|| async { ApiError::NotFound("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_request,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(
            // Spans name the route pattern, never the concrete path: paths
            // carry usernames and emails.
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                tracing::info_span!("http", method = %request.method(), route)
            }),
        )
        .with_state(state)
}

/// Counts requests and their duration by route pattern, method and status.
async fn record_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("route", route.as_str()),
        ("method", method.as_str()),
        ("status", status.as_str()),
    ];
    state
        .metrics
        .counter("userstore_gateway_http_requests_total", &labels)
        .increment(1);
    state
        .metrics
        .histogram("userstore_gateway_http_request_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    response
}

// The documented bounds below are literals (utoipa takes no constants);
// they are `MAX_PARAM_CHARS`, `checked`'s NUL rule and `u32::MAX`, and a
// test in tests/auth_and_logs.rs probes the server at each of them.

/// Search and paging parameters, as Keycloak's admin search sends them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Prefix by default; `*` is a wildcard; `"..."` matches exactly. Empty matches all.
    #[serde(default)]
    #[param(max_length = 1024, pattern = "^[^\\u0000]*$")]
    pub search: String,
    /// Offset of the first user returned.
    #[serde(default)]
    #[param(value_type = i64, minimum = 0, maximum = 4294967295_i64)]
    pub first: u32,
    /// Page size; capped by `server.max_page_size`.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub max: Option<u32>,
}

/// Search parameters for counting.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// Same syntax as for `GET /v1/users`.
    #[serde(default)]
    #[param(max_length = 1024, pattern = "^[^\\u0000]*$")]
    pub search: String,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
}

/// A user count.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCount {
    pub count: i64,
}

/// Body of `verify-password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub password: String,
}

/// Answer of `verify-password`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordVerdict {
    pub valid: bool,
}

/// Answer of the health endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user's id in the database",
        min_length = 1, max_length = 1024, pattern = "^[^\\u0000]*$")),
    responses((status = 200, body = User),
        (status = 400, description = "The id is longer than 1024 characters, contains NUL or is not UTF-8", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No such user", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn user_by_id(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    found(state.store.user_by_id(checked("id", &id)?).await?)
}

#[utoipa::path(get, path = "/v1/users/by-username/{username}", tag = "users",
    params(("username" = String, Path, description = "Matched case-insensitively by the default query",
        min_length = 1, max_length = 1024, pattern = "^[^\\u0000]*$")),
    responses((status = 200, body = User),
        (status = 400, description = "The username is longer than 1024 characters, contains NUL or is not UTF-8", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No such user, or more than one", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn user_by_username(
    State(state): State<AppState>,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    found(
        state
            .store
            .user_by_username(checked("username", &username)?)
            .await?,
    )
}

#[utoipa::path(get, path = "/v1/users/by-email/{email}", tag = "users",
    params(("email" = String, Path, description = "Matched case-insensitively by the default query",
        min_length = 1, max_length = 1024, pattern = "^[^\\u0000]*$")),
    responses((status = 200, body = User),
        (status = 400, description = "The email is longer than 1024 characters, contains NUL or is not UTF-8", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No such user, or more than one", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn user_by_email(
    State(state): State<AppState>,
    ApiPath(email): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    found(state.store.user_by_email(checked("email", &email)?).await?)
}

/// Longest identifier, username, email or search string accepted, in
/// characters: JSON Schema's `maxLength` counts characters, and the
/// document states this limit.
const MAX_PARAM_CHARS: usize = 1024;

/// Refuses values no user database column holds, before they reach SQL:
/// NUL characters (PostgreSQL rejects them with an error) and very long
/// strings.
fn checked<'a>(what: &str, value: &'a str) -> Result<&'a str, ApiError> {
    // Counting stops past the limit, so a huge value costs no full scan.
    if value.chars().nth(MAX_PARAM_CHARS).is_some() {
        return Err(ApiError::BadRequest(format!(
            "{what} is longer than {MAX_PARAM_CHARS} characters"
        )));
    }
    if value.contains('\0') {
        return Err(ApiError::BadRequest(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(value)
}

fn found(user: Option<User>) -> Result<Json<User>, ApiError> {
    user.map(Json).ok_or(ApiError::NotFound("no such user"))
}

#[utoipa::path(get, path = "/v1/users", tag = "users", params(SearchParams),
    responses((status = 200, body = UserPage),
        (status = 400, description = "A parameter is out of its documented bounds or given twice", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn search_users(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<UserPage>, ApiError> {
    let max = params
        .max
        .unwrap_or(state.max_page_size)
        .min(state.max_page_size);
    let users = state
        .store
        .search(checked("search", &params.search)?, params.first, max)
        .await?;
    Ok(Json(UserPage { users }))
}

#[utoipa::path(get, path = "/v1/users/count", tag = "users", params(CountParams),
    responses((status = 200, body = UserCount),
        (status = 400, description = "`search` is out of its documented bounds or given twice", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn count_users(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<CountParams>,
) -> Result<Json<UserCount>, ApiError> {
    let count = state
        .store
        .count(checked("search", &params.search)?)
        .await?;
    Ok(Json(UserCount { count }))
}

#[utoipa::path(post, path = "/v1/users/{id}/verify-password", tag = "users",
    params(("id" = String, Path, description = "The user's id in the database",
        min_length = 1, max_length = 1024, pattern = "^[^\\u0000]*$")),
    request_body = PasswordInput,
    responses(
        (status = 200, body = PasswordVerdict, description = "`valid: false` for a wrong password, an unknown id, a disabled user, a user without a hash and an unusable hash alike"),
        (status = 400, description = "The body is not JSON, or the id is longer than 1024 characters, contains NUL or is not UTF-8", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "The body is larger than `server.body_limit_bytes`", body = Problem, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not declared as `Content-Type: application/json`", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "The JSON body is not one object with a string `password` and nothing else", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn verify_password(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Json<PasswordVerdict>, ApiError> {
    let credentials = state.store.credentials(checked("id", &id)?).await?;
    let outcome = state.verifier.check(&id, credentials, input.password).await;
    Ok(Json(PasswordVerdict {
        valid: outcome == Outcome::Valid,
    }))
}

#[utoipa::path(get, path = "/v1/roles", tag = "roles",
    responses((status = 200, body = RoleCatalog), V1Errors),
    security(("bearer" = [])))]
async fn roles(State(state): State<AppState>) -> Result<Json<RoleCatalog>, ApiError> {
    Ok(Json(state.store.all_roles().await?))
}

/// Where to read the change feed from, and how long to wait for a change.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `cursor` of the previous answer. Without it, the answer comes at
    /// once with no changes and the cursor to start from.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub after: Option<String>,
    /// Seconds to wait for a change when there is none yet (long-poll);
    /// capped by `changes.max_wait_seconds`. Default 0: answer at once.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub wait: Option<String>,
}

#[utoipa::path(get, path = "/v1/changes", tag = "changes", params(ChangesParams),
    responses(
        (status = 200, body = ChangePage, description = "What changed after the cursor; empty when the wait ended without a change"),
        (status = 400, description = "`after` or `wait` is not a whole number of 0 or more, or given twice", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "No change log is configured", body = Problem, content_type = PROBLEM_JSON),
        V1Errors),
    security(("bearer" = [])))]
async fn changes(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> Result<Json<ChangePage>, ApiError> {
    let feed = state.feed.as_ref().ok_or(ApiError::NotFound(
        "no change log is configured: install migrations/<dialect>/0002_change_log.sql and set \
         [changes] enabled = true, or configure the changes and change_bounds queries",
    ))?;
    let wait = whole_number("wait", params.wait.as_deref())?.unwrap_or(0);
    let Some(after) = whole_number("after", params.after.as_deref())? else {
        return Ok(Json(feed.head().await?));
    };
    let wait = Duration::from_secs(wait.unsigned_abs());
    Ok(Json(feed.after(after, wait).await?))
}

/// A query value that must be a whole number of 0 or more, if present.
fn whole_number(what: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(ApiError::BadRequest(format!(
            "{what} must be a whole number of 0 or more"
        ))),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health, description = "The process runs")))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// How long readiness waits for the database before saying no.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health, description = "The database answers"),
        (status = 503, description = "The database does not answer", body = Problem, content_type = PROBLEM_JSON)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.pool().ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database does not answer");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer in time");
            Err(ApiError::Unavailable)
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String, description = "Prometheus text format")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle) = state.store.pool().connections();
    let gauge = |s: &'static str| {
        state
            .metrics
            .gauge("userstore_gateway_db_connections", &[("state", s)])
    };
    gauge("open").set(f64::from(open));
    gauge("idle").set(idle as f64);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", description = "This description")))]
async fn openapi_json() -> impl IntoResponse {
    Json(openapi::document())
}
