//! Passes: what an admitted visitor shows at the shop's door.
//!
//! A pass is a JWT signed with Ed25519 (`alg: EdDSA`), bound to one event (`aud`) and one
//! session (`sub` and `jti`), valid until the session's slot ends (`exp`). Its public keys
//! are published as a JWKS (`/.well-known/jwks.json`), so an origin can check a pass
//! offline with any JWT library; the gate route checks it for proxies (nginx
//! `auth_request`, Traefik ForwardAuth, Caddy `forward_auth`).
//!
//! The gate answers from memory: a pass once verified is remembered ([`PassCache`]), and
//! the passes of sessions that ended early (left, revoked) are kept per event in
//! [`Revocations`], which every process re-reads from Redis a few times a second.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::domain::EventId;
use crate::store::Store;

/// What a pass says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claims {
    /// The event the pass opens (and no other).
    pub aud: String,
    /// The session it was issued to.
    pub sub: String,
    /// The pass's id: the session id again (one pass per session).
    pub jti: String,
    /// Issued at: when the session was admitted (unix seconds).
    pub iat: u64,
    /// Expiry: the end of the session's slot (unix seconds).
    pub exp: u64,
    /// From when (unix seconds) the gate renews the slot as its buyer keeps using the shop
    /// (half of the event's session length before `exp`; README, "Sessions that follow
    /// the buyer"). Absent: never renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rnw: Option<u64>,
}

/// The keys that sign and verify passes: the current one, and earlier ones that still
/// verify (and are still published) until their last pass has expired.
pub struct Keyring {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: JwkSet,
    validation: jsonwebtoken::Validation,
}

impl Keyring {
    /// A new Ed25519 private key, as PKCS#8 PEM.
    pub fn generate_pem() -> String {
        let seed: [u8; 32] = rand::random();
        SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key encodes as PKCS#8")
            .to_string()
    }

    /// `signing`: the current private key (PKCS#8 PEM); `retired`: earlier keys (private
    /// or public PEM) whose passes are still accepted.
    pub fn new(signing: &str, retired: &[SecretString]) -> Result<Self, String> {
        let key = SigningKey::from_pkcs8_pem(signing.trim())
            .map_err(|e| format!("the signing key is not an Ed25519 PKCS#8 PEM: {e}"))?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| format!("the signing key cannot be encoded: {e}"))?;
        let mut public = vec![key.verifying_key()];
        for (n, pem) in retired.iter().enumerate() {
            public.push(
                public_key(pem.expose_secret())
                    .map_err(|e| format!("retired key {}: {e}", n + 1))?,
            );
        }
        let mut jwks = JwkSet { keys: Vec::new() };
        let mut decoding = HashMap::new();
        for key in public {
            let jwk = jwk(&key);
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            let decoder = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
            if decoding.insert(kid, decoder).is_none() {
                jwks.keys.push(jwk);
            }
        }
        let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        validation.leeway = 0;
        // The audience is the event the caller asks about: checked by `verify`.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "aud"]);
        Ok(Self {
            kid: jwks.keys[0].common.key_id.clone().unwrap_or_default(),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding,
            jwks,
            validation,
        })
    }

    /// The id of the current key (its RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn issue(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).expect("Ed25519 signing of plain claims")
    }

    /// The claims of a pass signed by one of these keys and not expired, or why not.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = decode_header(token).map_err(|e| e.to_string())?;
        let key = header
            .kid
            .and_then(|kid| self.decoding.get(&kid))
            .ok_or("the pass was not signed by a key of this room")?;
        decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    /// The public keys, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

fn public_key(pem: &str) -> Result<VerifyingKey, String> {
    let pem = pem.trim();
    if let Ok(private) = SigningKey::from_pkcs8_pem(pem) {
        return Ok(private.verifying_key());
    }
    VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| format!("not an Ed25519 PEM (PKCS#8 private or SPKI public): {e}"))
}

/// A public key as a JWK, with its RFC 7638 thumbprint as `kid`.
fn jwk(key: &VerifyingKey) -> Jwk {
    let mut jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            ..Default::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes()),
        }),
    };
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256));
    jwk
}

/// A verified pass, as the gate remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub event: String,
    pub session: String,
    /// Unix seconds.
    pub expires: u64,
    /// From when (unix seconds) a check renews it, if ever.
    pub renew_from: Option<u64>,
}

/// Passes verified recently, by their text: the signature is checked once per pass,
/// process and worker thread, not on every request to the shop. Each worker thread keeps
/// its own map, so the gate's hot path shares no lock or counter between cores. Bounded
/// (a full map is emptied); failures are not remembered.
pub struct PassCache {
    /// Tells apart the caches of several services in one process (tests), whose keys differ.
    id: u64,
}

/// Passes remembered per worker thread before the map is emptied.
const PASS_CACHE: usize = 100_000;

thread_local! {
    static VERIFIED: std::cell::RefCell<HashMap<u64, HashMap<Box<str>, Pass>>> =
        std::cell::RefCell::new(HashMap::new());
}

impl Default for PassCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PassCache {
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// `look` applied to the pass, verified now if this thread did not remember it.
    pub fn with<R>(
        &self,
        keyring: &Keyring,
        token: &str,
        look: impl FnOnce(&Pass) -> R,
    ) -> Result<R, String> {
        VERIFIED.with(|verified| {
            let mut verified = verified.borrow_mut();
            let mine = verified.entry(self.id).or_default();
            if let Some(pass) = mine.get(token) {
                return Ok(look(pass));
            }
            let claims = keyring.verify(token)?;
            let pass = Pass {
                event: claims.aud,
                session: claims.sub,
                expires: claims.exp,
                renew_from: claims.rnw,
            };
            let answer = look(&pass);
            if mine.len() >= PASS_CACHE {
                mine.clear();
            }
            mine.insert(token.into(), pass);
            Ok(answer)
        })
    }
}

/// How often every process re-reads the revocations of the events it guards.
pub const REVOCATION_REFRESH: Duration = Duration::from_millis(200);
/// An event nobody asked the gate about for this long is no longer watched (its next
/// check reads Redis once, and watches it again). A shop's door is asked before every
/// page a buyer opens, so a sale in progress stays watched; a pass shown once (by anyone:
/// passes of made-up events included) costs at most this long of watching.
const WATCH_IDLE_MS: u64 = 30 * 1_000;
/// Most events one process watches; beyond, each check reads Redis. So the watching costs
/// Redis at most this many small reads per [`REVOCATION_REFRESH`], whatever is shown.
const MAX_WATCHED: usize = 1_000;

/// An event's revocation mark: its meta's epoch, its count of revoked passes, and whether
/// its sale is suspended (no door opens meanwhile).
pub type Mark = (String, u64, bool);

/// The sessions whose passes ended early, per event this process guards. Read on every
/// gate check without a lock (an atomically swapped map); changed a few times a second at
/// most, by copying.
#[derive(Default)]
pub struct Revocations {
    events: ArcSwap<HashMap<EventId, Arc<Watched>>>,
    /// Serialises the writers.
    writing: Mutex<()>,
}

struct Watched {
    /// The event's revocation mark when `sessions` was read: a mark of another epoch
    /// (the event started anew, its counter from 0) always replaces it.
    mark: Mark,
    sessions: HashSet<String>,
    last_used_ms: AtomicU64,
}

impl Revocations {
    /// Whether the event's sale is suspended; `None` when the event is not watched yet.
    pub fn is_suspended(&self, event: &str) -> Option<bool> {
        self.events.load().get(event).map(|w| w.mark.2)
    }

    /// `None` when the event is not watched yet: read it with [`Revocations::load`].
    pub fn is_revoked(&self, event: &str, session: &str, now_ms: u64) -> Option<bool> {
        let events = self.events.load();
        let watched = events.get(event)?;
        // Written at most once a second: every check reads it, and a write on each
        // would bounce its cache line between cores.
        if now_ms.saturating_sub(watched.last_used_ms.load(Ordering::Relaxed)) > 1_000 {
            watched.last_used_ms.store(now_ms, Ordering::Relaxed);
        }
        Some(watched.sessions.contains(session))
    }

    /// Changes the map under the writers' lock.
    fn change<R>(&self, change: impl FnOnce(&mut HashMap<EventId, Arc<Watched>>) -> R) -> R {
        let _writer = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut events = HashMap::clone(&self.events.load());
        let answer = change(&mut events);
        self.events.store(Arc::new(events));
        answer
    }

    /// Replaces what is known of an event's revocations (unless a newer read of the same
    /// epoch is already there). An event beyond [`MAX_WATCHED`] is not kept: its checks
    /// read Redis.
    pub fn load(&self, event: &EventId, mark: Mark, sessions: Vec<String>, now_ms: u64) {
        self.change(|events| {
            let last_used = match events.get(event) {
                Some(watched) if mark.0 == watched.mark.0 && mark.1 < watched.mark.1 => return,
                Some(watched) => watched.last_used_ms.load(Ordering::Relaxed),
                None if events.len() >= MAX_WATCHED => return,
                None => now_ms,
            };
            events.insert(
                event.clone(),
                Arc::new(Watched {
                    mark,
                    sessions: sessions.into_iter().collect(),
                    last_used_ms: AtomicU64::new(last_used),
                }),
            );
        })
    }

    /// A session of this process gave its slot back: refused here at once, before the next
    /// read from Redis.
    pub fn add(&self, event: &EventId, session: &str) {
        self.change(|events| {
            if let Some(watched) = events.get(event) {
                let mut sessions = watched.sessions.clone();
                sessions.insert(session.to_owned());
                let updated = Watched {
                    mark: watched.mark.clone(),
                    sessions,
                    last_used_ms: AtomicU64::new(watched.last_used_ms.load(Ordering::Relaxed)),
                };
                events.insert(event.clone(), Arc::new(updated));
            }
        })
    }

    /// The watched events with their marks; forgets those idle for long.
    fn watched(&self, now_ms: u64) -> Vec<(EventId, Mark)> {
        let idle = |w: &Watched| {
            now_ms.saturating_sub(w.last_used_ms.load(Ordering::Relaxed)) >= WATCH_IDLE_MS
        };
        if self.events.load().values().any(|w| idle(w)) {
            self.change(|events| events.retain(|_, w| !idle(w)));
        }
        self.events
            .load()
            .iter()
            .map(|(e, w)| (e.clone(), w.mark.clone()))
            .collect()
    }
}

/// Re-reads the revocations of every watched event whose mark moved, every
/// [`REVOCATION_REFRESH`], until `shutdown`: one pipelined read of the marks, and one read
/// per event that changed.
pub async fn watch_revocations(
    store: Store,
    revocations: Arc<Revocations>,
    shutdown: CancellationToken,
) {
    let mut every = tokio::time::interval(REVOCATION_REFRESH);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        let watched = revocations.watched(crate::clock::now_ms());
        if watched.is_empty() {
            continue;
        }
        let events: Vec<EventId> = watched.iter().map(|(e, _)| e.clone()).collect();
        let counts = match store.revocation_counts(&events).await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read revocations; trying again");
                continue;
            }
        };
        for ((event, known), mark) in watched.into_iter().zip(counts) {
            if mark == known {
                continue;
            }
            match store.revoked(&event).await {
                Ok((mark, sessions)) => {
                    revocations.load(&event, mark, sessions, crate::clock::now_ms());
                }
                Err(e) => tracing::debug!(error = %e, "cannot read revocations; trying again"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: &str, exp: u64) -> Claims {
        Claims {
            aud: aud.into(),
            sub: "s".into(),
            jti: "s".into(),
            iat: 1,
            exp,
            rnw: None,
        }
    }

    const FAR: u64 = 4_000_000_000;

    #[test]
    fn a_pass_verifies_with_its_keyring_only_and_names_its_key() {
        let keys = Keyring::new(&Keyring::generate_pem(), &[]).unwrap();
        let pass = keys.issue(&claims("E1", FAR));
        assert_eq!(keys.verify(&pass).unwrap(), claims("E1", FAR));
        let header = decode_header(&pass).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys.kid()));
        let other = Keyring::new(&Keyring::generate_pem(), &[]).unwrap();
        assert!(other.verify(&pass).is_err());
    }

    #[test]
    fn an_altered_or_expired_pass_is_refused() {
        let keys = Keyring::new(&Keyring::generate_pem(), &[]).unwrap();
        let pass = keys.issue(&claims("E1", FAR));
        let mut bytes = pass.clone().into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        assert!(keys.verify(&String::from_utf8(bytes).unwrap()).is_err());
        assert!(keys.verify(&keys.issue(&claims("E1", 2))).is_err());
        assert!(keys.verify("not a pass").is_err());
    }

    #[test]
    fn a_retired_key_still_verifies_and_is_published() {
        let old_pem = Keyring::generate_pem();
        let old = Keyring::new(&old_pem, &[]).unwrap();
        let pass = old.issue(&claims("E1", FAR));
        let new = Keyring::new(&Keyring::generate_pem(), &[SecretString::from(old_pem)]).unwrap();
        assert_eq!(new.verify(&pass).unwrap().aud, "E1");
        let kids: Vec<_> = new
            .jwks()
            .keys
            .iter()
            .map(|k| k.common.key_id.clone().unwrap())
            .collect();
        assert_eq!(kids, vec![new.kid().to_string(), old.kid().to_string()]);
    }

    #[test]
    fn the_published_key_verifies_a_pass_offline() {
        let keys = Keyring::new(&Keyring::generate_pem(), &[]).unwrap();
        let pass = keys.issue(&claims("E1", FAR));
        let json = serde_json::to_string(keys.jwks()).unwrap();
        let set: JwkSet = serde_json::from_str(&json).unwrap();
        let jwk = set.find(keys.kid()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["E1"]);
        let data =
            decode::<Claims>(&pass, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap();
        assert_eq!(data.claims.sub, "s");
    }

    #[test]
    fn revocations_keep_the_newest_read_and_forget_idle_events() {
        let r = Revocations::default();
        let e = EventId::parse("E1").unwrap();
        assert_eq!(r.is_revoked("E1", "a", 0), None);
        r.load(&e, ("ep1".into(), 2, false), vec!["a".into()], 0);
        assert_eq!(r.is_revoked("E1", "a", 0), Some(true));
        assert_eq!(r.is_revoked("E1", "b", 0), Some(false));
        // An older read does not undo a newer one; a local leave shows at once.
        r.load(&e, ("ep1".into(), 1, false), vec![], 0);
        assert_eq!(r.is_revoked("E1", "a", 0), Some(true));
        r.add(&e, "b");
        assert_eq!(r.is_revoked("E1", "b", 0), Some(true));
        assert_eq!(r.watched(1).len(), 1);
        assert!(r.watched(WATCH_IDLE_MS + 1).is_empty());
    }

    #[test]
    fn an_event_started_anew_replaces_what_was_known_of_it() {
        // Its counter went back to 0 with its new epoch: the new read counts, although
        // its count is lower.
        let r = Revocations::default();
        let e = EventId::parse("E1").unwrap();
        r.load(&e, ("old".into(), 5, false), vec!["a".into()], 0);
        r.load(&e, ("new".into(), 1, false), vec!["z".into()], 0);
        assert_eq!(r.is_revoked("E1", "z", 0), Some(true));
        assert_eq!(r.is_revoked("E1", "a", 0), Some(false));
    }
}
