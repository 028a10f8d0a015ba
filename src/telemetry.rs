//! Telemetry: logs (`tracing` to stdout, filtered by `RUST_LOG`, text or JSON) and
//! Prometheus metrics (`GET /metrics`).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::Histogram;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global log subscriber; later calls are no-ops (tests build many apps).
pub fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
                .expect("non-empty buckets")
                // Per-event gauges of events gone idle (no longer updated) disappear.
                .idle_timeout(
                    metrics_util::MetricKindMask::GAUGE,
                    Some(std::time::Duration::from_secs(10)),
                )
                .install_recorder()
                .expect("the only metrics recorder of the process")
        })
        .clone()
}

/// Metric names, in one place.
pub mod names {
    pub const JOINS: &str = "vestibule_joins_total";
    pub const GRANTS: &str = "vestibule_grants_total";
    pub const EXPIRIES: &str = "vestibule_expiries_total";
    pub const RELEASES: &str = "vestibule_releases_total";
    pub const ABANDONMENTS: &str = "vestibule_abandonments_total";
    pub const STATUS_POLLS: &str = "vestibule_status_polls_total";
    pub const REDIS_ERRORS: &str = "vestibule_redis_errors_total";
    pub const RATE_LIMITED: &str = "vestibule_rate_limited_total";
    pub const GATE_CHECKS: &str = "vestibule_gate_checks_total";
    pub const HTTP_DURATION: &str = "vestibule_http_request_duration_seconds";
    pub const GRANTER_PASS: &str = "vestibule_granter_pass_duration_seconds";
    pub const GRANTER_LAG: &str = "vestibule_granter_lag_seconds";
    pub const WAITING: &str = "vestibule_waiting";
    pub const ACTIVE: &str = "vestibule_active";
}

/// Counts a gate check by its outcome (handles registered once: the gate is hot).
pub fn count_gate(opened: bool) {
    static COUNTERS: OnceLock<[metrics::Counter; 2]> = OnceLock::new();
    let [refused, opened_counter] = COUNTERS.get_or_init(|| {
        [
            metrics::counter!(names::GATE_CHECKS, "outcome" => "refused"),
            metrics::counter!(names::GATE_CHECKS, "outcome" => "opened"),
        ]
    });
    if opened {
        opened_counter.increment(1);
    } else {
        refused.increment(1);
    }
}

/// Middleware: request latency by route pattern, method and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record_http(route, method, response.status().as_u16(), started);
    response
}

/// Records one request's latency, as [`track_http`] does (for a request answered without
/// the router: the server's join lane).
pub fn record_http(route: &str, method: &'static str, status: u16, started: Instant) {
    http_histogram(route, method, status).record(started.elapsed().as_secs_f64());
}

/// The method as a label: the standard ones, else "other" (a client must not be able to
/// create series at will).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// The latency histogram of one (route, method, status), registered once: a request
/// then costs a map lookup instead of building and hashing a labelled key.
fn http_histogram(route: &str, method: &'static str, status: u16) -> Histogram {
    type Series = HashMap<String, HashMap<(&'static str, u16), Histogram>>;
    static SERIES: OnceLock<RwLock<Series>> = OnceLock::new();
    let series = SERIES.get_or_init(RwLock::default);
    let known = series
        .read()
        .ok()
        .and_then(|s| s.get(route)?.get(&(method, status)).cloned());
    if let Some(histogram) = known {
        return histogram;
    }
    let histogram = metrics::histogram!(
        names::HTTP_DURATION,
        "route" => route.to_owned(),
        "method" => method,
        "status" => status.to_string()
    );
    if let Ok(mut s) = series.write() {
        s.entry(route.to_owned())
            .or_default()
            .insert((method, status), histogram.clone());
    }
    histogram
}
