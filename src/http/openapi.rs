//! The OpenAPI 3 description served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::Problem;
use super::{Health, PasswordInput, PasswordVerdict, UserCount, UserPage};
use crate::feed::ChangePage;
use crate::store::{RoleCatalog, User};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "userstore-gateway",
        description = "Read-only access to an existing user database for Keycloak: lookups, search, count, roles, password verification and a feed of changed users. Every /v1 route needs `Authorization: Bearer <token>`; errors are application/problem+json. There is no write endpoint: other methods get 405."
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
