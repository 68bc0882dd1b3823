//! The OpenAPI 3 description served at `/openapi.json`.
//!
//! It is meant to be exact: every status a route can answer is listed, every
//! error answer as `application/problem+json` with the [`Problem`] schema,
//! and every parameter bound is the one the handler enforces. `.ci/test`
//! holds the server to it with schemathesis.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use super::error::{Problem, PROBLEM_JSON};
use super::{Health, PasswordInput, PasswordVerdict, UserCount, UserPage};
use crate::feed::ChangePage;
use crate::store::{RoleCatalog, User};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "userstore-gateway",
        description = "Read-only access to an existing user database for Keycloak: lookups, search, count, roles, password verification and a feed of changed users. Every /v1 route needs `Authorization: Bearer <token>`; errors are application/problem+json. There is no write endpoint: other methods get 405 (problem+json, with `Allow`), unknown paths 404."
    ),
    paths(
        super::user_by_id,
        super::user_by_username,
        super::user_by_email,
        super::search_users,
        super::count_users,
        super::verify_password,
        super::roles,
        super::changes,
        super::healthz,
        super::readyz,
        super::metrics,
        super::openapi_json,
    ),
    components(schemas(User, UserPage, UserCount, PasswordInput, PasswordVerdict, RoleCatalog, ChangePage, Problem, Health)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, built on each call (it is small and rarely fetched).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// An error answer as documented: problem+json with the [`Problem`] schema.
fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(Problem::name())))
            .build(),
    )
}

/// The error answers every `/v1` route can give besides its own: a refused
/// token, and the database failing (every `/v1` route reads it).
pub struct V1Errors;

impl IntoResponses for V1Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let challenge = HeaderBuilder::new()
            .schema(String::schema())
            .description(Some(
                "`Bearer`, or `Bearer error=\"invalid_token\"` when a token was presented",
            ))
            .build();
        BTreeMap::from([
            (
                "401".to_owned(),
                problem("No bearer token, or not a configured one")
                    .header("WWW-Authenticate", challenge)
                    .build()
                    .into(),
            ),
            (
                "500".to_owned(),
                problem(
                    "A configured query failed or returned unusable rows; `errorId` names the \
                     cause in the gateway's log",
                )
                .build()
                .into(),
            ),
            (
                "503".to_owned(),
                problem("The database does not answer").build().into(),
            ),
        ])
    }
}
