//! An event's keys by JWKS URL (README, "Bots and accounts"): the shop publishes its public
//! keys (EdDSA, ES256 or RS256; never a shared secret) at a URL, and rotates them there.
//!
//! Each process keeps one [`KeySet`] per URL (at most [`KEY_SETS`]) and fetches it again
//! when it is [`REFRESH_MS`] old (the keys it has serve meanwhile), or when a token names a
//! key it does not have, at most once every [`RETRY_MS`] per URL: a stream of tokens with
//! made-up key ids makes at most one request to the shop every 30 s per process. A fetch
//! takes at most [`TIMEOUT`], reads at most [`MAX_BYTES`], follows no redirect, and needs
//! `https` (plain `http` only to the machine itself: `localhost`, `127.0.0.1`, `[::1]`).

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::TokenRefusal;

/// How long a fetched key set serves before it is fetched again.
pub const REFRESH_MS: u64 = 600_000;
/// The shortest time between two fetches for a key the set does not have.
pub const RETRY_MS: u64 = 30_000;
/// Longest a fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest key set read (bytes).
pub const MAX_BYTES: usize = 64 * 1024;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2_048;
/// Key sets a process keeps (the coldest are dropped first).
pub const KEY_SETS: usize = 1_000;

/// Checks a JWKS URL's form (not whether it answers): `https`, or `http` to this machine.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("jwksUrl must be at most {MAX_URL_LEN} bytes"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "jwksUrl must be a URL".to_string())?;
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err("jwksUrl must be https (http only to localhost)".into()),
    }
}

/// A key of the set: its id, the one algorithm it verifies, the key.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// What a fetch left.
#[derive(Default)]
struct Fetched {
    keys: Vec<Key>,
    /// When the keys were fetched (ms on the room's clock; 0: never).
    fetched_ms: u64,
    /// When a fetch was last tried.
    tried_ms: u64,
}

impl Fetched {
    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Key> {
        let mut usable = self.keys.iter().filter(|k| k.alg == alg);
        match kid {
            Some(kid) => usable.find(|k| k.kid.as_deref() == Some(kid)),
            // Without a key id: only when the set has one key for the algorithm.
            None => {
                let first = usable.next();
                first.filter(|_| usable.next().is_none())
            }
        }
    }
}

/// One URL's keys, as this process fetched them.
pub struct KeySet {
    url: String,
    fetched: ArcSwap<Fetched>,
    fetching: tokio::sync::Mutex<()>,
}

impl KeySet {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            fetched: ArcSwap::from_pointee(Fetched::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key that verifies a token whose header names `kid` and `alg`, at `now_ms`
    /// (fetching the set first when it is due, see the module's bounds).
    pub async fn key(
        &self,
        http: &reqwest::Client,
        kid: Option<&str>,
        alg: Algorithm,
        now_ms: u64,
    ) -> Result<(DecodingKey, Algorithm), TokenRefusal> {
        let due = |f: &Fetched| {
            let stale = f.fetched_ms == 0 || now_ms >= f.fetched_ms + REFRESH_MS;
            let missing = f.find(kid, alg).is_none();
            (stale || missing) && (f.tried_ms == 0 || now_ms >= f.tried_ms + RETRY_MS)
        };
        let current = self.fetched.load_full();
        if due(&current) {
            let have = current.find(kid, alg).is_some();
            // With a key in hand, never wait for another task's fetch.
            let guard = if have {
                self.fetching.try_lock().ok()
            } else {
                Some(self.fetching.lock().await)
            };
            if let Some(_guard) = guard {
                let current = self.fetched.load_full();
                if due(&current) {
                    let fresh = match fetch(http, &self.url).await {
                        Ok(keys) => Fetched {
                            keys,
                            fetched_ms: now_ms,
                            tried_ms: now_ms,
                        },
                        Err(error) => {
                            tracing::warn!(url = %self.url, %error, "the shop's JWKS could not be fetched");
                            Fetched {
                                keys: current.keys.clone(),
                                fetched_ms: current.fetched_ms,
                                tried_ms: now_ms,
                            }
                        }
                    };
                    self.fetched.store(Arc::new(fresh));
                }
            }
        }
        self.fetched
            .load()
            .find(kid, alg)
            .map(|k| (k.key.clone(), k.alg))
            .ok_or(TokenRefusal::Invalid("no key of the shop's JWKS signs it"))
    }
}

/// Whether `url` gives a JWKS with a key the room can use (the operator's setting is
/// checked with it); the reason when not.
pub async fn probe(http: &reqwest::Client, url: &str) -> Result<(), String> {
    fetch(http, url).await.map(|_| ())
}

/// Fetches a JWKS and keeps its keys that verify EdDSA (Ed25519), ES256 (P-256) or RS256;
/// an error when it cannot be fetched or holds none of them.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<Key>, String> {
    check_url(url)?;
    let mut res = http
        .get(url)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("the JWKS URL did not answer ({e})"))?;
    if !res.status().is_success() {
        return Err(format!("the JWKS URL answered {}", res.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("the JWKS could not be read ({e})"))?
    {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(format!("the JWKS is over {MAX_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let set: JwkSet = serde_json::from_slice(&body)
        .map_err(|_| "the JWKS URL did not give a JWKS".to_string())?;
    let keys: Vec<Key> = set.keys.iter().filter_map(usable).collect();
    if keys.is_empty() {
        return Err("the JWKS has no EdDSA (Ed25519), ES256 (P-256) or RS256 key".into());
    }
    Ok(keys)
}

/// A JWK the room verifies with: an Ed25519, P-256 or RSA public key (a symmetric key is
/// never taken from a URL), for signatures.
fn usable(jwk: &Jwk) -> Option<Key> {
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        _ => return None,
    };
    // A key that names its algorithm must name this one.
    let named = match jwk.common.key_algorithm {
        None => by_type,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(_) => return None,
    };
    if named != by_type {
        return None;
    }
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
    {
        return None;
    }
    Some(Key {
        kid: jwk.common.key_id.clone(),
        alg: by_type,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwks_url_is_https_or_local() {
        assert!(check_url("https://shop.example/.well-known/jwks.json").is_ok());
        assert!(check_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(check_url("http://localhost/jwks").is_ok());
        assert!(check_url("http://shop.example/jwks").is_err());
        assert!(check_url("ftp://shop.example/jwks").is_err());
        assert!(check_url("not a url").is_err());
        assert!(check_url(&format!("https://shop.example/{}", "a".repeat(3_000))).is_err());
    }

    #[test]
    fn only_signature_keys_of_the_three_algorithms_are_used() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({ "keys": [
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed" },
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "enc", "use": "enc" },
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "lies", "alg": "RS256" },
            { "kty": "oct", "k": "c2VjcmV0", "kid": "hs" },
        ]}))
        .unwrap();
        let keys: Vec<Key> = set.keys.iter().filter_map(usable).collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("ed"));
        assert_eq!(keys[0].alg, Algorithm::EdDSA);
        let fetched = Fetched {
            keys,
            fetched_ms: 1,
            tried_ms: 1,
        };
        assert!(fetched.find(Some("ed"), Algorithm::EdDSA).is_some());
        assert!(
            fetched.find(None, Algorithm::EdDSA).is_some(),
            "the only one"
        );
        assert!(fetched.find(Some("ed"), Algorithm::ES256).is_none());
        assert!(fetched.find(Some("hs"), Algorithm::HS256).is_none());
    }
}
