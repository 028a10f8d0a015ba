//! Admission tokens: a signed (HS256 JWT), expiring proof that a session was admitted,
//! which a protected origin can check without calling back.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What an admission token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Session id.
    pub sub: String,
    /// Event id.
    pub evt: String,
    /// User id.
    pub usr: String,
    /// Issued at: when the session was admitted (unix seconds).
    pub iat: u64,
    /// Expiry: the end of the active session (unix seconds).
    pub exp: u64,
}

/// Issues and verifies tokens with one secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// The claims of a valid token, or why it is not valid.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "s".into(),
            evt: "E1".into(),
            usr: "U1".into(),
            iat: 1,
            exp,
        }
    }

    fn far_future() -> u64 {
        4_000_000_000
    }

    #[test]
    fn a_token_verifies_with_its_secret_only() {
        let t = Tokens::new(b"one secret");
        let token = t.issue(&claims(far_future()));
        assert_eq!(t.verify(&token).unwrap(), claims(far_future()));
        assert!(Tokens::new(b"another secret").verify(&token).is_err());
    }

    #[test]
    fn an_altered_or_expired_token_is_refused() {
        let t = Tokens::new(b"k");
        let token = t.issue(&claims(far_future()));
        let mut bytes = token.clone().into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        assert!(t.verify(&String::from_utf8(bytes).unwrap()).is_err());
        assert!(t.verify(&t.issue(&claims(2))).is_err());
        assert!(t.verify("not a token").is_err());
    }
}
