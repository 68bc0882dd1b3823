//! The tests with a real Keycloak, one binary and so one shared Keycloak
//! server (tests that stop it start their own): end to end through the
//! provider and the gateway, failure modes, and Keycloak's shutdown.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod e2e;
mod failure_modes;
mod shutdown;
