//! The HTTP server loop: accepts connections and serves the router over HTTP/1.1 and
//! HTTP/2 (hyper), with what `axum::serve` does not offer: a deadline for a request's
//! headers (a client trickling its headers, slowloris, is cut off), the peer address for
//! [`axum::extract::ConnectInfo`], and a fast lane: a function that may answer a request
//! from memory before the router sees it (the gate, which a proxy asks before every
//! request to the shop). Stops accepting on `stop`, then lets in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Answers a request from memory when it can; `None` leaves it to the router.
pub type FastLane = Arc<dyn Fn(&hyper::Request<Incoming>) -> Option<Response> + Send + Sync>;

/// Serves `router` on `listener` until `stop` completes, then waits for the connections
/// still open to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    fast_lane: FastLane,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
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
        let (router, fast_lane) = (router.clone(), fast_lane.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // Answered from memory, or routed: the router (one shared count) is taken only
            // by the requests it answers.
            let work = match fast_lane(&request) {
                Some(response) => Err(response),
                None => {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    Ok((router.clone(), request))
                }
            };
            async move {
                match work {
                    Err(answered) => Ok(answered),
                    Ok((router, request)) => {
                        router.oneshot(request.map(axum::body::Body::new)).await
                    }
                }
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
