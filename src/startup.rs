//! Wiring: state, router, listener, granter, graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::browser;
use crate::config::Config;
use crate::console::{self, Console};
use crate::granter::{self, Health, Wake};
use crate::limits::{self, JoinLimiter};
use crate::passes::{self, Keyring};
use crate::service::{Service, ServiceSettings};
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::telemetry;
use crate::{admin, api};

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

/// Site settings: `Leptos.toml` in the working directory when present (the release binary
/// on its own), else the `LEPTOS_*` environment that cargo-leptos sets. `LEPTOS_*`
/// variables override the file either way; `site_addr` overrides both.
pub fn leptos_options(site_addr: Option<SocketAddr>) -> Result<LeptosOptions, StartupError> {
    let file = Path::new("Leptos.toml");
    let conf = get_configuration(file.exists().then_some("Leptos.toml"))?;
    let mut options = conf.leptos_options;
    if let Some(addr) = site_addr {
        options.site_addr = addr;
    }
    Ok(options)
}

/// A server ready to run: bound, with its granter started.
pub struct Application {
    listener: TcpListener,
    router: Router,
    granter: JoinHandle<()>,
    shutdown: CancellationToken,
    header_timeout: std::time::Duration,
    fast_lane: crate::serve::FastLane,
}

impl Application {
    pub async fn build(config: Config, options: LeptosOptions) -> Result<Self, StartupError> {
        let store = Store::connect(
            &config.redis_target(),
            config.redis_timeout(),
            config.durability(),
        )?;
        let secrets = config.secret_source()?;
        if let Some(pem) = &secrets.signing_key {
            // A bad key file stops the start, not the first admission.
            Keyring::new(pem, &secrets.retired_keys)?;
        }
        let wake = Arc::new(Wake::default());
        let service = Service::new(
            store.clone(),
            ServiceSettings {
                session_ms: config.session_seconds * 1_000,
                default_capacity: config.grant_params().default_capacity,
                heartbeat_ms: config.heartbeat_ms(),
                max_poll_ms: config.max_poll_ms(),
                events: config.events,
                secrets,
            },
            wake.clone(),
        );
        // Ready while passes keep coming: every tick, at least every few seconds.
        let health =
            Health::new((config.granter_tick() * 5).max(std::time::Duration::from_secs(5)));
        let shutdown = CancellationToken::new();
        let granter = tokio::spawn(granter::run(
            store.clone(),
            config.grant_params(),
            wake,
            config.granter_tick(),
            health.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(passes::watch_revocations(
            store,
            service.revocations(),
            shutdown.clone(),
        ));
        let listener = TcpListener::bind(options.site_addr).await?;
        let fast_lane = api::gate_fast_lane(service.clone());
        let admin_token = config.admin_token()?;
        let state = AppState(Arc::new(Shared {
            leptos_options: options,
            service,
            granter: health,
            metrics_token: config.metrics_token()?,
            console: admin_token
                .as_deref()
                .map(|token| Console::new(token, config.trusted_proxies.clone())),
        }));
        telemetry::metrics_handle();
        let limits = Limits {
            joins: JoinLimiter::new(
                config.join_rate_per_second,
                config.join_burst,
                config.trusted_proxies.clone(),
            ),
            request_timeout: std::time::Duration::from_millis(config.request_timeout_ms),
            admin_token,
        };
        Ok(Self {
            listener,
            router: router(state, limits),
            granter,
            shutdown,
            header_timeout: std::time::Duration::from_millis(config.header_timeout_ms),
            fast_lane,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `stop` is cancelled, then finishes in-flight requests and the current
    /// granter pass.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let shutdown = self.shutdown.clone();
        crate::serve::serve(
            self.listener,
            self.router,
            self.fast_lane,
            self.header_timeout,
            async move {
                stop.cancelled().await;
                shutdown.cancel();
            },
        )
        .await;
        self.shutdown.cancel();
        let _ = self.granter.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The limits every request passes through.
pub struct Limits {
    pub joins: JoinLimiter,
    pub request_timeout: std::time::Duration,
    /// Admin routes are mounted only with a token.
    pub admin_token: Option<String>,
}

/// Every route: the JSON API (and the admin API when configured), the hashed static files,
/// the Leptos pages and server functions, and the fallback (files under the site root,
/// else the app's 404 page).
pub fn router(state: AppState, limits: Limits) -> Router {
    let options = state.leptos_options.clone();
    let pkg_dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );
    let routes = generate_route_list(App);
    let mut router = Router::new();
    if let Some(token) = &limits.admin_token {
        router = router.merge(admin::router(token)).merge(console::router());
    }
    router
        .merge(api::router())
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .leptos_routes_with_context(&state, routes, || {}, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            limits.joins,
            limits::limit_joins,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            limits::deadline,
        ))
        .layer(axum::middleware::from_fn(browser::guard_server_fns))
        .layer(axum::middleware::from_fn(browser::default_headers))
        .layer(axum::middleware::from_fn(telemetry::track_http))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
