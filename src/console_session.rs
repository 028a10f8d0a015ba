//! The operator's console session (README, "The operator's console"): the keys derived
//! from the admin token, the signed `vestibule_console` cookie, each session's form token,
//! and the flash that tells the next page what a post did.
//!
//! - The cookie is signed (HMAC) with a key derived from the token: `HttpOnly`,
//!   `SameSite=Strict`, `Secure` over https, good for [`SESSION_HOURS`] hours. A new token
//!   ends every session made with the old one.
//! - A session's form token is a hash of a key derived from the admin token and the
//!   session's random nonce: another site can neither read nor make it.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;
use cookie::{Cookie, CookieJar, Key, SameSite};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "vestibule_console";
/// What the last post did, shown once by the next page.
pub const FLASH_COOKIE: &str = "vestibule_console_flash";
/// How long a console session lasts.
pub const SESSION_HOURS: u64 = 12;
/// The console's keys, derived from the admin token. Cheap to clone.
#[derive(Clone)]
pub struct Console(Arc<Keys>);

impl std::ops::Deref for Console {
    type Target = Keys;

    fn deref(&self) -> &Keys {
        &self.0
    }
}

/// What a [`Console`] holds.
pub struct Keys {
    token: SecretString,
    /// Signs the session and flash cookies.
    key: Key,
    /// Makes each session's form token.
    csrf_key: [u8; 32],
}

/// A signed-in operator's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    nonce: String,
}

/// What the last post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Console {
    pub fn new(token: &SecretString) -> Self {
        let derive = |purpose: &str| {
            let mut hash = Sha512::new();
            hash.update(purpose.as_bytes());
            hash.update([0]);
            hash.update(token.expose_secret().as_bytes());
            hash.finalize()
        };
        let mut csrf_key = [0u8; 32];
        csrf_key.copy_from_slice(&Sha256::digest(derive("vestibule console form"))[..]);
        Self(Arc::new(Keys {
            token: token.clone(),
            key: Key::from(&derive("vestibule console session")[..]),
            csrf_key,
        }))
    }

    /// The token, compared in constant time.
    pub fn is_token(&self, given: &str) -> bool {
        bool::from(
            given
                .trim()
                .as_bytes()
                .ct_eq(self.token.expose_secret().as_bytes()),
        )
    }

    /// The session this request's cookie proves, if any (and not expired).
    pub fn session(&self, headers: &HeaderMap) -> Option<ConsoleSession> {
        let value = self.signed(headers, SESSION_COOKIE)?;
        let (expires, nonce) = value.split_once('.')?;
        let expires: u64 = expires.parse().ok()?;
        (expires > crate::clock::now_ms() && nonce.len() == 32).then(|| ConsoleSession {
            nonce: nonce.to_string(),
        })
    }

    /// The form token of a session.
    pub fn csrf(&self, session: &ConsoleSession) -> String {
        let mut hash = Sha256::new();
        hash.update(self.csrf_key);
        hash.update(session.nonce.as_bytes());
        hex::encode(hash.finalize())
    }

    /// Whether a form's token is this session's.
    pub fn csrf_ok(&self, session: &ConsoleSession, given: Option<&String>) -> bool {
        given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.csrf(session).as_bytes())))
    }

    /// `Set-Cookie` of a new session.
    pub fn new_session(&self, secure: bool) -> HeaderValue {
        let expires = crate::clock::now_ms() + SESSION_HOURS * 3_600_000;
        let nonce = format!("{:032x}", rand::random::<u128>());
        self.sign(
            cookie(SESSION_COOKIE, format!("{expires}.{nonce}"), "/", secure)
                .max_age(cookie::time::Duration::hours(SESSION_HOURS as i64)),
        )
    }

    /// The flash of this request, if any.
    pub fn flash(&self, headers: &HeaderMap) -> Option<Flash> {
        let value = self.signed(headers, FLASH_COOKIE)?;
        let (kind, text) = value.split_once('.')?;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        Some(Flash {
            ok: kind == "ok",
            text: String::from_utf8(text).ok()?,
        })
    }

    /// `Set-Cookie` of a flash for the next page.
    pub fn set_flash(&self, flash: &Flash, secure: bool) -> HeaderValue {
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&flash.text);
        let kind = if flash.ok { "ok" } else { "error" };
        self.sign(
            cookie(FLASH_COOKIE, format!("{kind}.{text}"), "/admin", secure)
                .max_age(cookie::time::Duration::minutes(1)),
        )
    }

    fn signed(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        for value in headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for c in Cookie::split_parse(value.to_owned()).filter_map(Result::ok) {
                if c.name() == name {
                    jar.add_original(c);
                }
            }
        }
        Some(jar.signed(&self.key).get(name)?.value().to_string())
    }

    fn sign(&self, cookie: cookie::CookieBuilder<'static>) -> HeaderValue {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(cookie.build());
        let signed = jar.delta().next().expect("the cookie just added");
        HeaderValue::from_str(&signed.to_string()).expect("a cookie is a valid header value")
    }
}

/// `Set-Cookie` that removes a cookie.
pub fn removal(name: &'static str, path: &'static str, secure: bool) -> HeaderValue {
    let gone = cookie(name, String::new(), path, secure)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&gone.to_string()).expect("a cookie is a valid header value")
}

fn cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secure: bool,
) -> cookie::CookieBuilder<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
}
