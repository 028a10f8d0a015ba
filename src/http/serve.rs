//! The HTTP server loop: accepts connections and serves the router over HTTP/1.1 and
//! HTTP/2 (hyper), with what `axum::serve` does not offer:
//! - a deadline for a request's headers (a client trickling its headers, slowloris, is
//!   cut off), and for the first bytes of a connection: a socket that connects and says
//!   nothing (or stops halfway through the HTTP/2 preface) is closed after it, as is an
//!   HTTP/1 connection idle between requests;
//! - an idle limit for HTTP/2 connections, which hyper keeps open forever otherwise: one
//!   with no request in flight for [`Connections::idle`] is closed (and pings find dead
//!   peers);
//! - a cap on connections open at once ([`Connections::max`]): past it, new ones wait in
//!   the kernel's backlog without taking a file descriptor, so silent sockets cannot use
//!   up the process's descriptors and starve everyone else;
//! - the peer address for [`axum::extract::ConnectInfo`], and a fast lane: a function
//!   that may answer a request before the router sees it, from memory (the gate, which a
//!   proxy asks before every request to the shop) or with a handler of its own (the JSON
//!   join, the request of an opening).
//!
//! Stops accepting on `stop`, then lets in-flight requests finish (at most
//! [`DRAIN`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// What the fast lane makes of a request.
pub enum Lane {
    /// Answered from memory.
    Answered(Response),
    /// Answered by the lane's own handler, without the router (the JSON join).
    Handled(Pin<Box<dyn Future<Output = Response> + Send>>),
    /// Left to the router.
    Routed(hyper::Request<Incoming>),
}

/// A request's work, once the lane has seen it.
enum Work {
    Answered(Response),
    Handled(Pin<Box<dyn Future<Output = Response> + Send>>),
    Routed(Router, hyper::Request<Incoming>),
}

/// Answers a request (sent by `peer`) before the router when it can.
pub type FastLane = Arc<dyn Fn(hyper::Request<Incoming>, SocketAddr) -> Lane + Send + Sync>;

/// How long a stopping server waits for its connections' requests to finish.
const DRAIN: Duration = Duration::from_secs(30);
/// How long a connection asked to close may take to finish what it is doing.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Longest wait for a request's headers, and for a connection's first bytes.
    pub header_timeout: Duration,
    /// An HTTP/2 connection with no request in flight this long is closed.
    pub idle: Duration,
    /// Most connections open at once.
    pub max: usize,
}

impl Connections {
    /// At most `wanted` connections, and fewer if the process may not open that many
    /// files: a quarter of its descriptors stay free for Redis, logs and files.
    pub fn max_for_this_process(wanted: usize) -> usize {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one plain struct that we own.
        let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        if !known || limit.rlim_cur == libc::RLIM_INFINITY {
            return wanted;
        }
        let files = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
        wanted.min((files - files / 4).max(16))
    }
}

/// Serves `router` on `listener` until `stop` completes, then waits for the connections
/// still open to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    fast_lane: FastLane,
    limits: Connections,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(10));
    let open = Arc::new(Semaphore::new(limits.max));
    let (closing, closing_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        // A place first: past the cap, connections wait in the backlog, not in memory.
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("never closed"),
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let activity = Arc::new(Activity::new());
        let (router, fast_lane, seen) = (router.clone(), fast_lane.clone(), activity.clone());
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::new(&seen);
            // Answered by the lane, or routed: the router (one shared count) is taken only
            // by the requests it answers.
            let work = match fast_lane(request, peer) {
                Lane::Answered(response) => Work::Answered(response),
                Lane::Handled(handler) => Work::Handled(handler),
                Lane::Routed(mut request) => {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    Work::Routed(router.clone(), request)
                }
            };
            async move {
                let response = match work {
                    Work::Answered(answered) => answered,
                    Work::Handled(handler) => handler.await,
                    Work::Routed(router, request) => {
                        let Ok(response) = router.oneshot(request.map(Body::new)).await;
                        response
                    }
                };
                // In flight until its body is sent.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(Tracked {
                        inner: body,
                        _in_flight: in_flight,
                    })
                }))
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(connection);
            let ended = loop {
                let wake = activity
                    .idle_deadline(limits)
                    .unwrap_or_else(|| Instant::now() + limits.idle);
                tokio::select! {
                    ended = connection.as_mut() => break Some(ended),
                    _ = closing.changed() => break None,
                    _ = tokio::time::sleep_until(wake) => {
                        if activity.idle_deadline(limits).is_some_and(|d| d <= Instant::now()) {
                            break None;
                        }
                    }
                }
            };
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    // Idle too long, or the server stops: finish what is in flight, then
                    // close; a peer that does not let go is dropped after the grace.
                    connection.as_mut().graceful_shutdown();
                    match tokio::time::timeout(CLOSE_GRACE, connection.as_mut()).await {
                        Ok(ended) => ended,
                        Err(_) => return,
                    }
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = closing.send(());
    // Every place given back: every connection closed.
    let all = u32::try_from(limits.max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, open.acquire_many(all)).await;
}

/// What a connection is doing: requests in flight, and since when it has had none.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: Mutex<Instant>,
    /// Whether it has sent a request yet (before, the header timeout applies).
    spoke: std::sync::atomic::AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            spoke: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// When the connection is to be closed for saying nothing, if nothing is in flight:
    /// the header timeout after it opened (no request yet), else the idle limit after its
    /// last answer.
    fn idle_deadline(&self, limits: Connections) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        let wait = if self.spoke.load(Ordering::SeqCst) {
            limits.idle
        } else {
            limits.header_timeout
        };
        Some(since + wait)
    }
}

/// One request in flight on a connection, until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.spoke.store(true, Ordering::SeqCst);
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    }
}

/// A response body that keeps its request in flight until it is sent (or dropped).
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
