//! Bearer-token check for `/v1`, in constant time over every configured token.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::settings::Secret;

/// The accepted tokens, kept only as SHA-256 digests so comparisons take the
/// same time whatever the presented token's length.
#[derive(Clone)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl Tokens {
    /// Digests the configured tokens.
    pub fn new(tokens: &[Secret]) -> Self {
        Self {
            digests: tokens.iter().map(|t| digest(t.expose())).collect(),
        }
    }

    /// True when `presented` equals one of the tokens. Every token is
    /// compared, so timing does not tell which one (or whether any) matched.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        let matched = self
            .digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, d| acc | d.ct_eq(&presented));
        matched.into()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Middleware: 401 with `WWW-Authenticate: Bearer` unless a configured token is presented.
pub async fn require_token(State(tokens): State<Tokens>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        Some(token) if tokens.accepts(token) => next.run(request).await,
        Some(_) => {
            tracing::info!("request with an unknown bearer token refused");
            ApiError::Unauthorized {
                token_presented: true,
            }
            .into_response()
        }
        None => ApiError::Unauthorized {
            token_presented: false,
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_configured_token_is_accepted_for_rotation() {
        let tokens = Tokens::new(&[Secret::new("old-token"), Secret::new("new-token")]);
        assert!(tokens.accepts("old-token"));
        assert!(tokens.accepts("new-token"));
    }

    #[test]
    fn other_tokens_and_prefixes_are_refused() {
        let tokens = Tokens::new(&[Secret::new("the-token")]);
        assert!(!tokens.accepts("the-toke"));
        assert!(!tokens.accepts("the-token "));
        assert!(!tokens.accepts(""));
    }
}
