//! Who a request is from, and how fast they may go: the client's address (the TCP peer, or
//! behind trusted proxies the address they forward), the key it is counted under (an IPv6
//! client by its /64) and a per-client rate limit.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

/// Clients remembered before stale ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Requests per client (see [`client_key`]): the joins (the JSON join route and the page's
/// join server function), and the console's sign-in attempts.
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

    /// `per_minute` requests a minute per client (after a burst of `burst`): the limit on
    /// the console's sign-in attempts.
    pub fn per_minute(per_minute: u32, burst: u32, trusted: Vec<IpNet>) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).expect("at least one a minute");
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        Self {
            limiter: Some(Arc::new(RateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            ))),
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
}
