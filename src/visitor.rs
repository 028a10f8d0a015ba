//! The browser's identity and the pass it carries, as cookies.
//!
//! - `vestibule_visitor`: an anonymous visitor id (128 random bits), signed (HMAC, by the
//!   `cookie` crate's signed jar), `HttpOnly`, `SameSite=Lax`. The page joins a line as
//!   the user `visitor:<id>`, so a place belongs to one browser: another browser has
//!   another id, and nobody can forge one without the room's cookie key. JSON callers may
//!   not use the `visitor:` prefix.
//! - `vestibule_pass`: the pass of an admitted session (see [`crate::passes`]), `HttpOnly`,
//!   `SameSite=Lax`, scoped to `WAITING_ROOM_COOKIE_DOMAIN` when set so that the shop's
//!   host receives it too.
//!
//! - `vestibule_entry`: the shop's enqueue token for an event with `entry: token`, taken
//!   from the line's URL (`?enqueue_token=`) so that it does not stay there; `HttpOnly`,
//!   `SameSite=Lax`, kept an hour at most (a token lives no longer), removed by the join.
//! - `vestibule_places`: the places this browser made for the shop's accounts (their
//!   session ids, at most [`MAX_HELD`]), signed: the proof that the browser holds an
//!   account's place (another browser of the same account is refused, as a JSON caller
//!   without the place's id is).
//!
//! - `vestibule_lang`: the language the visitor picked by a link (`crate::lang`).
//!
//! All are `Secure` when the request came over https (`X-Forwarded-Proto: https` from the
//! proxy in front, or a `Forwarded` header saying `proto=https`).

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, CookieJar, Key, SameSite};
use sha2::{Digest, Sha512};

use crate::domain::{SessionId, UserId};

pub const VISITOR_COOKIE: &str = "vestibule_visitor";
pub const PASS_COOKIE: &str = "vestibule_pass";
pub const ENTRY_COOKIE: &str = "vestibule_entry";
pub const PLACES_COOKIE: &str = "vestibule_places";
/// Most account places one browser's cookie remembers (the oldest are dropped).
pub const MAX_HELD: usize = 8;
/// The user ids of visitors of the page.
pub const VISITOR_PREFIX: &str = "visitor:";
/// How long a browser keeps its visitor id.
const VISITOR_DAYS: i64 = 30;

/// Reads and writes the room's cookies.
pub struct Cookies {
    key: Key,
    domain: Option<String>,
}

impl Cookies {
    /// `secret`: any length; it is stretched (SHA-512) to the 64 bytes the jar needs.
    pub fn new(secret: &[u8], domain: Option<String>) -> Self {
        let digest = Sha512::digest(secret);
        Self {
            key: Key::from(&digest[..]),
            domain: domain.filter(|d| !d.is_empty()),
        }
    }

    /// The visitor this request's signed cookie proves, if any.
    pub fn visitor(&self, headers: &HeaderMap) -> Option<UserId> {
        let mut jar = CookieJar::new();
        for cookie in request_cookies(headers) {
            jar.add_original(cookie);
        }
        let id = jar.signed(&self.key).get(VISITOR_COOKIE)?;
        let id = id.value();
        let valid = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        valid
            .then(|| UserId::parse(&format!("{VISITOR_PREFIX}{id}")).ok())
            .flatten()
    }

    /// A new visitor and the `Set-Cookie` value that gives the browser its id.
    pub fn new_visitor(&self, secure: bool) -> (UserId, HeaderValue) {
        let id = format!("{:032x}", rand::random::<u128>());
        let user = UserId::parse(&format!("{VISITOR_PREFIX}{id}")).expect("a valid user id");
        let cookie = Cookie::build((VISITOR_COOKIE, id))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::days(VISITOR_DAYS))
            .build();
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(cookie);
        let signed = jar.delta().next().expect("the cookie just added");
        (user, header_value(signed))
    }

    /// `Set-Cookie` for a pass that lasts `seconds`.
    pub fn pass(&self, pass: &str, seconds: u64, secure: bool) -> HeaderValue {
        header_value(&self.pass_cookie(pass.to_owned(), seconds, secure))
    }

    /// The places of accounts this browser holds, as its signed cookie says.
    pub fn held(&self, headers: &HeaderMap) -> Vec<SessionId> {
        let mut jar = CookieJar::new();
        for cookie in request_cookies(headers) {
            jar.add_original(cookie);
        }
        jar.signed(&self.key)
            .get(PLACES_COOKIE)
            .map(|c| {
                c.value()
                    .split('.')
                    .filter_map(|id| SessionId::parse(id).ok())
                    .take(MAX_HELD)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `Set-Cookie` for the places this browser holds with `sid` added (first).
    pub fn hold(&self, headers: &HeaderMap, sid: SessionId, secure: bool) -> HeaderValue {
        let mut held = self.held(headers);
        held.retain(|h| *h != sid);
        held.insert(0, sid);
        held.truncate(MAX_HELD);
        let value: Vec<String> = held.iter().map(ToString::to_string).collect();
        let cookie = Cookie::build((PLACES_COOKIE, value.join(".")))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::days(1))
            .build();
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key).add(cookie);
        header_value(jar.delta().next().expect("the cookie just added"))
    }

    /// `Set-Cookie` keeping the shop's enqueue token for an hour at most.
    pub fn entry(&self, token: &str, secure: bool) -> Option<HeaderValue> {
        let cookie = Cookie::build((ENTRY_COOKIE, token.to_owned()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(
                crate::entry::MAX_LIFETIME_S as i64,
            ))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// `Set-Cookie` that removes the enqueue token.
    pub fn clear_entry(&self, secure: bool) -> HeaderValue {
        let cookie = Cookie::build((ENTRY_COOKIE, ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::ZERO)
            .build();
        header_value(&cookie)
    }

    /// `Set-Cookie` that removes the pass.
    pub fn clear_pass(&self, secure: bool) -> HeaderValue {
        header_value(&self.pass_cookie(String::new(), 0, secure))
    }

    fn pass_cookie(&self, value: String, seconds: u64, secure: bool) -> Cookie<'static> {
        let mut cookie = Cookie::build((PASS_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(seconds).unwrap_or(i64::MAX),
            ))
            .build();
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }
}

/// `Set-Cookie` that remembers the visitor's language (`crate::lang`) a year: not signed
/// (it proves nothing), readable by nothing but the server (`HttpOnly`), `SameSite=Lax`.
pub fn lang_cookie(name: &'static str, code: &'static str, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, code))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::days(365))
        .build();
    header_value(&cookie)
}

fn header_value(cookie: &Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a valid header value")
}

fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = Cookie<'static>> + '_ {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()).filter_map(Result::ok))
}

/// The value of one plain cookie of the request.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).filter_map(Result::ok))
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// The request reached the proxy in front over https.
pub fn is_https(headers: &HeaderMap) -> bool {
    let says = |name: header::HeaderName, needle: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains(needle))
    };
    says(
        header::HeaderName::from_static("x-forwarded-proto"),
        "https",
    ) || says(header::FORWARDED, "proto=https")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    }

    #[test]
    fn a_visitor_cookie_proves_its_visitor_and_nothing_else() {
        let cookies = Cookies::new(b"secret", None);
        let (user, set) = cookies.new_visitor(false);
        assert!(user.as_str().starts_with(VISITOR_PREFIX));
        let text = set.to_str().unwrap();
        assert!(
            text.contains("HttpOnly") && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(!text.contains("Secure"), "{text}");
        assert_eq!(cookies.visitor(&request_with(&set)), Some(user.clone()));
        // Another key, an unsigned id, or an altered one prove nothing.
        assert_eq!(
            Cookies::new(b"other", None).visitor(&request_with(&set)),
            None
        );
        let id = &user.as_str()[VISITOR_PREFIX.len()..];
        let plain = HeaderValue::from_str(&format!("{VISITOR_COOKIE}={id}")).unwrap();
        assert_eq!(cookies.visitor(&request_with(&plain)), None);
        let altered = set.to_str().unwrap().replacen(&id[..4], "ffff", 1);
        let altered = HeaderValue::from_str(&altered).unwrap();
        assert_eq!(cookies.visitor(&request_with(&altered)), None);
    }

    #[test]
    fn the_places_cookie_proves_only_what_this_room_signed() {
        let cookies = Cookies::new(b"secret", None);
        let a = SessionId::from_bytes([1; 16]);
        let b = SessionId::from_bytes([2; 16]);
        let first = cookies.hold(&HeaderMap::new(), a, false);
        let both = cookies.hold(&request_with(&first), b, false);
        assert_eq!(cookies.held(&request_with(&both)), vec![b, a]);
        assert!(Cookies::new(b"other", None)
            .held(&request_with(&both))
            .is_empty());
        // An unsigned list proves nothing.
        let plain = HeaderValue::from_str(&format!("{PLACES_COOKIE}={a}")).unwrap();
        assert!(cookies.held(&request_with(&plain)).is_empty());
        // At most MAX_HELD, the newest kept.
        let mut headers = HeaderMap::new();
        for n in 0..20u8 {
            let set = cookies.hold(&headers, SessionId::from_bytes([n; 16]), false);
            headers = request_with(&set);
        }
        let held = cookies.held(&headers);
        assert_eq!(held.len(), MAX_HELD);
        assert_eq!(held[0], SessionId::from_bytes([19; 16]));
    }

    #[test]
    fn the_pass_cookie_is_scoped_and_secure_over_https() {
        let cookies = Cookies::new(b"secret", Some(".shop.example".into()));
        let set = cookies.pass("a.b.c", 60, true);
        let text = set.to_str().unwrap();
        for part in [
            "vestibule_pass=a.b.c",
            "HttpOnly",
            "Secure",
            "Domain=shop.example",
            "Max-Age=60",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert_eq!(
            cookie_value(&request_with(&set), PASS_COOKIE),
            Some("a.b.c")
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_https(&headers));
        assert!(!is_https(&HeaderMap::new()));
    }
}
