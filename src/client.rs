//! Who a request is from, and how fast they may go: the client's address (the TCP peer, or
//! behind trusted proxies the address they forward), the key it is counted under (an IPv6
//! client by its /64), a per-client rate limit, and a per-client budget of failed tries at
//! the admin and metrics tokens.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Clients remembered before stale ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Requests per client (see [`client_key`]): the joins (the JSON join route and the page's
/// join server function).
#[derive(Clone)]
pub struct ClientLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    trusted: Arc<[IpNet]>,
}

impl ClientLimiter {
    /// `per_second` 0 means no limit; `trusted`: the proxies whose forwarded addresses
    /// name the client.
    pub fn new(per_second: u32, burst: u32, trusted: Vec<IpNet>) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        Self {
            limiter,
            trusted: trusted.into(),
        }
    }

    /// `Err(wait)` when the client of a request from `peer` must wait before its next.
    pub fn check_client(&self, peer: IpAddr, headers: &HeaderMap) -> Result<(), Duration> {
        self.check(client_ip(peer, headers, &self.trusted))
    }

    /// `Err(wait)` when this client must wait before joining again.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_TRACKED_CLIENTS {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Failed tries at a token a client may make at once: the admin token (the admin API's
/// `Authorization: Bearer`, the console's sign-in) and the metrics token together.
pub const FAILED_TRIES_BURST: u32 = 20;
/// Failed tries a minute a client may make after that burst. Guessing a long random token at
/// this pace is hopeless (README, "The operator's console", says how long a token to use).
pub const FAILED_TRIES_PER_MINUTE: u32 = 10;

/// Clients a [`FailureBudget`] remembers: at most this many keys (an IPv4 address or an
/// IPv6 /64, with one `Arc<AtomicU64>` each: about 10 MB at most). When it is full,
/// quick_cache evicts the coldest entries first; a client dropped for room starts again with
/// a full budget, as it would anyway once its failures are forgiven (two minutes after the
/// last at the defaults).
const MAX_TRACKED_FAILURES: usize = 100_000;

/// Failed tries at the admin and metrics tokens, per client (see [`client_key`]): a burst
/// of `burst`, then `per_minute` a minute (a GCRA per client). A client over its budget is
/// refused before its token is compared, so a right guess cannot be told from a wrong one
/// while it waits; a right token from a client within its budget is never limited (and
/// costs the budget nothing). One budget for all the routes that take a token: the admin
/// API, `/metrics` and the console's sign-in. Cheap to clone (one shared allocation).
#[derive(Clone)]
pub struct FailureBudget {
    inner: Arc<Failures>,
}

struct Failures {
    /// Per client: the GCRA's theoretical arrival time, in nanoseconds since `start` (the
    /// budget is full again then; a client whose time has passed has its full budget).
    /// Bounded: see [`MAX_TRACKED_FAILURES`].
    clients: quick_cache::sync::Cache<IpAddr, Arc<AtomicU64>>,
    start: Instant,
    /// Nanoseconds after which one failure is forgiven.
    interval: u64,
    /// How far ahead of now a client's time may stand for it to try again: `burst - 1`
    /// intervals.
    tolerance: u64,
    trusted: Arc<[IpNet]>,
}

impl FailureBudget {
    /// `burst` failed tries at once, then `per_minute` a minute (each at least 1);
    /// `trusted`: the proxies whose forwarded addresses name the client.
    pub fn new(per_minute: u32, burst: u32, trusted: Vec<IpNet>) -> Self {
        let interval = 60_000_000_000 / u64::from(per_minute.max(1));
        Self {
            inner: Arc::new(Failures {
                clients: quick_cache::sync::Cache::new(MAX_TRACKED_FAILURES),
                start: Instant::now(),
                interval,
                tolerance: interval * u64::from(burst.max(1) - 1),
                trusted: trusted.into(),
            }),
        }
    }

    /// The budget of the admin and metrics tokens ([`FAILED_TRIES_BURST`], then
    /// [`FAILED_TRIES_PER_MINUTE`]).
    pub fn for_tokens(trusted: Vec<IpNet>) -> Self {
        Self::new(FAILED_TRIES_PER_MINUTE, FAILED_TRIES_BURST, trusted)
    }

    /// Whether the request carries `Authorization: Bearer <secret>` (compared in constant
    /// time), a wrong or missing token counted against the client's budget; `Err(wait)`,
    /// without comparing, while the client of a request from `peer` is over its budget.
    pub fn bearer_is(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        secret: &SecretString,
    ) -> Result<bool, Duration> {
        self.attempt(peer, headers, || {
            let given = bearer(headers).unwrap_or_default();
            bool::from(given.as_bytes().ct_eq(secret.expose_secret().as_bytes()))
        })
    }

    /// `check()` (whether the secret given is right), run only while the client of a request
    /// from `peer` is within its budget, and counted against it when false; `Err(wait)`
    /// without running it when the client is over its budget.
    pub fn attempt(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        check: impl FnOnce() -> bool,
    ) -> Result<bool, Duration> {
        let client = client_key(client_ip(peer, headers, &self.inner.trusted));
        let now = u64::try_from(self.inner.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.attempt_at(client, now, check)
    }

    /// [`Self::attempt`] by `client` (a key) at `now` (nanoseconds since `start`). The try
    /// takes its share of the budget before `check` runs, and gives it back when the secret
    /// was right: a client cannot get more tries than its budget by sending them at once.
    fn attempt_at(
        &self,
        client: IpAddr,
        now: u64,
        check: impl FnOnce() -> bool,
    ) -> Result<bool, Duration> {
        let Failures {
            clients,
            interval,
            tolerance,
            ..
        } = &*self.inner;
        let (interval, tolerance) = (*interval, *tolerance);
        let state = clients
            .get_or_insert_with(&client, || {
                Ok::<_, std::convert::Infallible>(Arc::new(AtomicU64::new(0)))
            })
            .unwrap_or_else(|never| match never {});
        let taken = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |at| {
            (at <= now.saturating_add(tolerance)).then(|| at.max(now).saturating_add(interval))
        });
        if let Err(at) = taken {
            return Err(Duration::from_nanos(at - tolerance - now));
        }
        let right = check();
        if right {
            let _ = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |at| {
                Some(at.saturating_sub(interval))
            });
        }
        Ok(right)
    }
}

/// The TCP peer of a request (as the server loop records it), or the loopback address for
/// a request that did not come over a socket.
pub fn peer(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// The key a client is counted under: an IPv4 address as it is; an IPv6 address by its /64
/// prefix, since one customer line (or one server) usually has a whole /64 and may use any
/// address in it; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, how a dual-stack socket
/// shows an IPv4 peer) as that IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & (u128::MAX << 64))),
        },
    }
}

/// The credentials of `Authorization: Bearer <credentials>` (the scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

/// The client's address. From a trusted proxy, the right-most address of
/// `X-Forwarded-For` (else of `Forwarded: for=`) that is not itself a trusted proxy: the
/// first hop nobody trusted added, which a client cannot forge by sending its own header
/// (its values stand to the left). From anyone else, the peer itself.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let mut hops: Vec<IpAddr> = values("x-forwarded-for")
        .iter()
        .filter_map(|v| parse_hop(v))
        .collect();
    if hops.is_empty() {
        hops = values("forwarded")
            .iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for")
                        .then(|| parse_hop(value.trim_matches('"')))?
                })
            })
            .collect();
    }
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(value: &str) -> Option<IpAddr> {
    value
        .parse::<IpAddr>()
        .ok()
        .or_else(|| value.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            value
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_and_only_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let spoofed = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")]);
        // From the proxy: the first hop it did not trust; the client's own value is ignored.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &spoofed, &trusted),
            ip("203.0.113.7")
        );
        // From anyone else: the peer, whatever it claims.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &spoofed, &trusted),
            ip("198.51.100.1")
        );
        // Nothing forwarded: the peer; every hop trusted: the left-most.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        let inner = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &inner, &trusted), ip("10.9.9.9"));
        // RFC 7239, with ports and brackets; two header lines count as one list.
        let forwarded = headers(&[(
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2",
        )]);
        assert_eq!(
            client_ip(ip("::1"), &forwarded, &trusted),
            ip("2001:db8::7")
        );
        let mut two = HeaderMap::new();
        two.append(
            "x-forwarded-for",
            HeaderValue::from_static("192.0.2.1:5555"),
        );
        two.append("x-forwarded-for", HeaderValue::from_static("10.3.3.3"));
        assert_eq!(client_ip(ip("10.0.0.1"), &two, &trusted), ip("192.0.2.1"));
        // Not configured: always the peer.
        assert_eq!(client_ip(ip("10.0.0.1"), &spoofed, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_a_mapped_ipv4_address_is_the_ipv4_address() {
        assert_eq!(client_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(client_key(ip("1.2.3.4")), ip("1.2.3.4"));
        // A burst of 2, then one a second: no cell comes back within the test.
        let limiter = ClientLimiter::new(1, 2, Vec::new());
        let none = HeaderMap::new();
        let check = |client: &str| limiter.check_client(ip(client), &none);
        assert!(check("2001:db8:1:2::1").is_ok());
        assert!(check("2001:db8:1:2:ffff:ffff:ffff:fffe").is_ok());
        assert!(
            check("2001:db8:1:2:abcd:1234:5678:9abc").is_err(),
            "a third address of the same /64 shares its budget"
        );
        assert!(check("2001:db8:1:3::1").is_ok(), "the next /64 has its own");
        assert!(check("2001:db8:1:3::2").is_ok());
        assert!(check("2001:db8:1:3::3").is_err());
        assert!(check("::ffff:1.2.3.4").is_ok());
        assert!(check("1.2.3.4").is_ok());
        assert!(
            check("::ffff:1.2.3.4").is_err(),
            "::ffff:1.2.3.4 and 1.2.3.4 share one budget"
        );
        assert!(
            check("1.2.3.5").is_ok(),
            "IPv4 addresses are counted each on its own"
        );
    }

    #[test]
    fn failed_tries_are_limited_and_a_client_over_its_budget_is_refused_before_comparing() {
        const SECOND: u64 = 1_000_000_000;
        let budget = FailureBudget::for_tokens(Vec::new());
        let try_at = |client: &str, now: u64, right: bool| {
            budget.attempt_at(client_key(ip(client)), now, || right)
        };
        // Right tries from a client within its budget are never limited.
        for n in 0..1_000 {
            assert_eq!(try_at("192.0.2.1", n, true), Ok(true));
        }
        // 20 wrong, then everything is refused, the right token too, without comparing.
        for n in 0..20 {
            assert_eq!(try_at("2001:db8:1:2::1", n, false), Ok(false), "try {n}");
        }
        let wait = budget
            .attempt_at(client_key(ip("2001:db8:1:2::99")), 20, || {
                panic!("compared while over the budget")
            })
            .expect_err("the /64 is over its budget");
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(6),
            "{wait:?}"
        );
        assert!(try_at("2001:db8:1:2::1", 21, true).is_err());
        // Another /64, and an IPv4 client, have budgets of their own.
        assert_eq!(try_at("2001:db8:1:3::1", 22, true), Ok(true));
        assert_eq!(try_at("192.0.2.1", 23, false), Ok(false));
        // Ten a minute come back: one try every six seconds.
        assert_eq!(try_at("2001:db8:1:2::1", 6 * SECOND + 20, false), Ok(false));
        assert!(try_at("2001:db8:1:2::1", 6 * SECOND + 21, true).is_err());
        assert_eq!(try_at("2001:db8:1:2::1", 12 * SECOND + 21, true), Ok(true));
        assert_eq!(try_at("2001:db8:1:2::1", 12 * SECOND + 22, true), Ok(true));
        // ::ffff:198.51.100.7 is 198.51.100.7.
        for n in 0..20 {
            assert_eq!(try_at("::ffff:198.51.100.7", n, false), Ok(false));
        }
        assert!(try_at("198.51.100.7", 20, true).is_err());
        // And the whole budget is back once every failure is forgiven.
        let later = 20 * 6 * SECOND + 20;
        for n in 0..20 {
            assert_eq!(try_at("198.51.100.7", later + n, false), Ok(false));
        }
        assert!(try_at("198.51.100.7", later + 20, false).is_err());
    }
}
