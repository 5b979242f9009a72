//! Installation ingest tokens (and the board's session and setup secrets): random, shown
//! once, stored only as a sha256 digest.

use sha2::{Digest, Sha256};

/// Prefix that makes a leaked token recognisable for what it is.
const PREFIX: &str = "rvt_";

/// A fresh ingest token: 256 random bits.
pub fn generate() -> String {
    secret(PREFIX)
}

/// 256 random bits in hex after `prefix`.
pub fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    format!("{prefix}{}", hex::encode(bytes))
}

/// The digest stored and looked up in place of the token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_only_their_digest_matches() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(digest(&a), digest(&format!(" {a}\n")));
        assert_ne!(digest(&a), digest(&b));
        assert!(!digest(&a).contains(&a[PREFIX.len()..]));
    }
}
