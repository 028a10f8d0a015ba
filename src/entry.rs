//! Enqueue tokens (README, "Bots and accounts"): an event with `entry: token` takes a join
//! only with a short-lived token the shop signed for one of its accounts, and holds one
//! place per account, whatever the browser, the address or the number of tabs.
//!
//! A token is a JWT: `aud` the event id, `sub` the shop's account, `exp` at most
//! [`MAX_LIFETIME_S`] ahead. The operator gives each event its key ([`EntryKey`]): an
//! HS256 secret, an Ed25519 (EdDSA) or P-256 (ES256) public key in PEM, or the URL of the
//! shop's JWKS ([`jwks`]: EdDSA, ES256 or RS256 keys, rotated by the shop). The account
//! becomes the place's user, `account:<sub>` (see [`account_user`]), so the join script's
//! one-place-per-user rule is one place per account. The script itself refuses every other
//! user while the event says `entry: token`, so a switch of the setting holds at once on
//! every instance; the key a process verifies with may be up to [`RULE_TTL_MS`] old.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

use crate::domain::UserId;

pub mod jwks;

/// The user ids of accounts vouched for by an enqueue token.
pub const ACCOUNT_PREFIX: &str = "account:";
/// Longest a token may live, from now to its `exp`: a token is a ticket to join now, not
/// a credential to keep.
pub const MAX_LIFETIME_S: u64 = 3_600;
/// Clock skew allowed between the shop and the room, on `exp` and `nbf`.
pub const LEEWAY_S: u64 = 30;
/// Longest token accepted (bytes).
pub const MAX_TOKEN_LEN: usize = 4_096;
/// Shortest HS256 secret accepted (bytes).
pub const MIN_SECRET_LEN: usize = 32;
/// How long a process keeps an event's key before reading it again.
pub const RULE_TTL_MS: u64 = 1_000;

/// An event's entry key, as the operator gives it and as Redis keeps it.
#[derive(Clone, PartialEq, Eq)]
pub enum EntryKey {
    /// A shared secret (at least [`MIN_SECRET_LEN`] bytes).
    Hs256(String),
    /// An Ed25519 public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    EdDsa(String),
    /// A P-256 public key, PEM.
    Es256(String),
    /// The URL of the shop's JWKS.
    Jwks(String),
}

impl std::fmt::Debug for EntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EntryKey({})", self.alg()) // never the secret
    }
}

impl EntryKey {
    /// The key from the operator's words: `alg` (`HS256`, `EdDSA`, `ES256`, `JWKS`) and
    /// its material (the secret, the PEM public key, or the JWKS URL); checked now, so
    /// that a key that cannot verify anything is refused with its reason (a JWKS URL's
    /// form only: whether it answers is [`jwks::probe`]'s).
    pub fn parse(alg: &str, material: &str) -> Result<Self, String> {
        let key = match alg {
            "HS256" => {
                if material.len() < MIN_SECRET_LEN || material.len() > 512 {
                    return Err(format!(
                        "an HS256 secret must be {MIN_SECRET_LEN} to 512 bytes"
                    ));
                }
                EntryKey::Hs256(material.to_owned())
            }
            "EdDSA" => EntryKey::EdDsa(material.trim().to_owned()),
            "ES256" => EntryKey::Es256(material.trim().to_owned()),
            "JWKS" => {
                jwks::check_url(material.trim())?;
                EntryKey::Jwks(material.trim().to_owned())
            }
            _ => return Err("alg must be one of HS256, EdDSA, ES256".into()),
        };
        if material.len() > 4_096 {
            return Err("the key must be at most 4096 bytes".into());
        }
        key.rule().map(|_| key)
    }

    pub fn alg(&self) -> &'static str {
        match self {
            EntryKey::Hs256(_) => "HS256",
            EntryKey::EdDsa(_) => "EdDSA",
            EntryKey::Es256(_) => "ES256",
            EntryKey::Jwks(_) => "JWKS",
        }
    }

    /// As Redis keeps it: `<alg>\n<material>`.
    pub fn stored(&self) -> String {
        let material = match self {
            EntryKey::Hs256(m) | EntryKey::EdDsa(m) | EntryKey::Es256(m) | EntryKey::Jwks(m) => m,
        };
        format!("{}\n{material}", self.alg())
    }

    /// From what Redis keeps.
    pub fn from_stored(stored: &str) -> Option<Self> {
        let (alg, material) = stored.split_once('\n')?;
        Self::parse(alg, material).ok()
    }

    /// What verifies tokens with this key.
    pub fn rule(&self) -> Result<EntryRule, String> {
        let (key, alg) = match self {
            EntryKey::Jwks(url) => {
                return Ok(EntryRule {
                    key: None,
                    alg: Algorithm::EdDSA,
                    validation: validation(Algorithm::EdDSA),
                    jwks: Some(url.clone()),
                })
            }
            EntryKey::Hs256(secret) => (
                DecodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            ),
            EntryKey::EdDsa(pem) => (
                DecodingKey::from_ed_pem(pem.as_bytes())
                    .map_err(|_| "publicKey must be an Ed25519 public key in PEM".to_string())?,
                Algorithm::EdDSA,
            ),
            EntryKey::Es256(pem) => (
                DecodingKey::from_ec_pem(pem.as_bytes())
                    .map_err(|_| "publicKey must be a P-256 public key in PEM".to_string())?,
                Algorithm::ES256,
            ),
        };
        Ok(EntryRule {
            key: Some(key),
            alg,
            validation: validation(alg),
            jwks: None,
        })
    }
}

/// How a token's claims are checked for `alg` (times against the room's clock, in
/// [`EntryRule::account`], not the system's).
fn validation(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub", "aud"]);
    validation
}

/// An event's key, ready to verify tokens: its key, or the URL of the keys.
pub struct EntryRule {
    key: Option<DecodingKey>,
    alg: Algorithm,
    validation: Validation,
    jwks: Option<String>,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    aud: Audience,
    exp: u64,
    nbf: Option<u64>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Why a token was refused (each a sentence for people).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the enqueue token is not a valid token signed by the shop ({0})")]
    Invalid(&'static str),
    #[error("the enqueue token is for another event")]
    OtherEvent,
    #[error("the enqueue token has expired: ask the shop for a new one")]
    Expired,
    #[error("the enqueue token is not valid yet")]
    NotYet,
    #[error("the enqueue token lives too long (exp more than an hour ahead)")]
    TooLong,
}

impl EntryRule {
    /// With a JWKS: its URL (the key comes from [`jwks::KeySet::key`]).
    pub fn jwks_url(&self) -> Option<&str> {
        self.jwks.as_deref()
    }

    /// The key id and algorithm a token's header names.
    pub fn header(token: &str) -> Result<(Option<String>, Algorithm), TokenRefusal> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenRefusal::Invalid("too long"));
        }
        let header = decode_header(token).map_err(|_| TokenRefusal::Invalid("not a JWT"))?;
        Ok((header.kid, header.alg))
    }

    /// The account a token vouches for, for a join to `event` at `now_ms`, with the
    /// event's own key.
    pub fn account(&self, token: &str, event: &str, now_ms: u64) -> Result<UserId, TokenRefusal> {
        let key = self
            .key
            .as_ref()
            .ok_or(TokenRefusal::Invalid("no key of the shop's JWKS signs it"))?;
        Self::verify(key, self.alg, &self.validation, token, event, now_ms)
    }

    /// The same with a key of the shop's JWKS, which verifies `alg` only.
    pub fn account_with(
        &self,
        key: &DecodingKey,
        alg: Algorithm,
        token: &str,
        event: &str,
        now_ms: u64,
    ) -> Result<UserId, TokenRefusal> {
        Self::verify(key, alg, &validation(alg), token, event, now_ms)
    }

    fn verify(
        key: &DecodingKey,
        alg: Algorithm,
        validation: &Validation,
        token: &str,
        event: &str,
        now_ms: u64,
    ) -> Result<UserId, TokenRefusal> {
        let (_, named) = Self::header(token)?;
        if named != alg {
            return Err(TokenRefusal::Invalid("wrong algorithm"));
        }
        let claims = decode::<Claims>(token, key, validation)
            .map_err(|e| {
                TokenRefusal::Invalid(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => "wrong signature",
                    jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                        "exp, sub and aud are required"
                    }
                    _ => "unreadable",
                })
            })?
            .claims;
        let ours = match &claims.aud {
            Audience::One(aud) => aud == event,
            Audience::Many(auds) => auds.iter().any(|a| a == event),
        };
        if !ours {
            return Err(TokenRefusal::OtherEvent);
        }
        let now = now_ms / 1_000;
        if claims.exp + LEEWAY_S <= now {
            return Err(TokenRefusal::Expired);
        }
        if claims.exp > now + MAX_LIFETIME_S + LEEWAY_S {
            return Err(TokenRefusal::TooLong);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_S) {
            return Err(TokenRefusal::NotYet);
        }
        account_user(&claims.sub).ok_or(TokenRefusal::Invalid("empty or over-long sub"))
    }
}

/// The user id of the shop's account `sub`: `account:<sub>` when `sub` is at most 48
/// characters of `[A-Za-z0-9._:-]` (not starting with `:`), else `account::` and 40 hex
/// digits of its SHA-256 (an e-mail address, say). `None` for an empty `sub` or one over
/// 1024 bytes.
pub fn account_user(sub: &str) -> Option<UserId> {
    if sub.is_empty() || sub.len() > 1_024 {
        return None;
    }
    let plain = sub.len() <= 48
        && !sub.starts_with(':')
        && sub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    let id = if plain {
        format!("{ACCOUNT_PREFIX}{sub}")
    } else {
        let digest = Sha256::digest(sub.as_bytes());
        format!("{ACCOUNT_PREFIX}:{}", hex::encode(&digest[..20]))
    };
    UserId::parse(&id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW_MS: u64 = 1_800_000_000_000;

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn rule() -> EntryRule {
        EntryKey::parse("HS256", SECRET).unwrap().rule().unwrap()
    }

    #[test]
    fn a_token_vouches_for_its_account_in_its_event_only_while_it_lives() {
        let now = NOW_MS / 1_000;
        let good = serde_json::json!({ "sub": "acct-1", "aud": "E1", "exp": now + 60 });
        let account = rule().account(&token(good.clone(), SECRET), "E1", NOW_MS);
        assert_eq!(account.unwrap().as_str(), "account:acct-1");
        assert_eq!(
            rule().account(&token(good.clone(), SECRET), "E2", NOW_MS),
            Err(TokenRefusal::OtherEvent)
        );
        let other_secret = "fedcba9876543210fedcba9876543210";
        assert_eq!(
            rule().account(&token(good, other_secret), "E1", NOW_MS),
            Err(TokenRefusal::Invalid("wrong signature"))
        );
        let expired = serde_json::json!({ "sub": "a", "aud": "E1", "exp": now - LEEWAY_S });
        assert_eq!(
            rule().account(&token(expired, SECRET), "E1", NOW_MS),
            Err(TokenRefusal::Expired)
        );
        let long = serde_json::json!({ "sub": "a", "aud": "E1", "exp": now + 2 * MAX_LIFETIME_S });
        assert_eq!(
            rule().account(&token(long, SECRET), "E1", NOW_MS),
            Err(TokenRefusal::TooLong)
        );
        let no_sub = serde_json::json!({ "aud": "E1", "exp": now + 60 });
        assert!(matches!(
            rule().account(&token(no_sub, SECRET), "E1", NOW_MS),
            Err(TokenRefusal::Invalid(_))
        ));
        let many = serde_json::json!({ "sub": "a", "aud": ["E0", "E1"], "exp": now + 60 });
        assert!(rule().account(&token(many, SECRET), "E1", NOW_MS).is_ok());
        assert!(rule().account("not.a.token", "E1", NOW_MS).is_err());
    }

    #[test]
    fn accounts_that_do_not_fit_a_user_id_are_hashed_and_never_collide_with_plain_ones() {
        let mail = account_user("fan@example.com").unwrap();
        assert!(mail.as_str().starts_with("account::"), "{mail:?}");
        assert_eq!(mail, account_user("fan@example.com").unwrap());
        assert_ne!(mail, account_user("fan@example.org").unwrap());
        // A plain sub may not start with `:`: it cannot pose as a hashed one.
        let tilde = account_user(&mail.as_str()["account:".len()..]).unwrap();
        assert_ne!(tilde, mail);
        assert_eq!(account_user(""), None);
    }

    #[test]
    fn keys_are_checked_when_given() {
        assert!(EntryKey::parse("HS256", "short").is_err());
        assert!(EntryKey::parse("EdDSA", "not a pem").is_err());
        assert!(EntryKey::parse("ES256", "not a pem").is_err());
        assert!(EntryKey::parse("RS256", SECRET).is_err());
        let key = EntryKey::parse("HS256", SECRET).unwrap();
        assert_eq!(EntryKey::from_stored(&key.stored()), Some(key.clone()));
        assert!(!format!("{key:?}").contains(SECRET));
    }
}
