//! The admin token: one bearer secret from the configuration. Only its sha256 is kept in
//! memory and comparison is constant-time.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

/// Shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

/// The admin token, as a digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn new(secret: &str) -> Result<Self, String> {
        if secret.trim().len() < MIN_TOKEN_LEN {
            return Err(format!(
                "must be at least {MIN_TOKEN_LEN} characters (generate one with `openssl rand -hex 32`)"
            ));
        }
        Ok(AdminToken {
            digest: Sha256::digest(secret.trim().as_bytes()).into(),
        })
    }

    pub fn verify(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_configured_token() {
        let token = AdminToken::new("correct horse battery staple").unwrap();
        assert!(token.verify("correct horse battery staple"));
        assert!(!token.verify("correct horse battery stapl"));
        assert!(!token.verify(""));
        assert!(AdminToken::new("short").is_err());
        assert!(!format!("{token:?}").contains("horse"));
    }
}
