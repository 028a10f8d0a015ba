//! Wiring: the store, the service, the granter and the HTTP surface (`crate::http`) put
//! together; the listener and graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use secrecy::ExposeSecret;

use crate::client::{ClientLimiter, FailureBudget};
use crate::config::{Config, GranterMode};
use crate::console_session::Console;
use crate::granter::{self, Granter, Health};
use crate::http::api::JoinLane;
use crate::http::{fast, router, serve, Limits};
use crate::passes::{self, Keyring};
use crate::service::{Service, ServiceSettings};
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::telemetry;

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
    /// The granter loop (none in manual mode).
    granter_loop: Option<JoinHandle<()>>,
    granter: Granter,
    shutdown: CancellationToken,
    connections: serve::Connections,
    fast_lane: serve::FastLane,
    heartbeats: JoinHandle<()>,
}

impl Application {
    pub async fn build(config: Config, options: LeptosOptions) -> Result<Self, StartupError> {
        let store = Store::connect(
            &config.redis_target(),
            config.redis_timeout(),
            config.durability(),
            config.heartbeat_ms(),
            config.room_clock(),
        )?
        .with_event_defaults(crate::store::EventDefaults {
            capacity: config.capacity,
            session_ms: config.session_seconds * 1_000,
        })
        .with_request_deadline(std::time::Duration::from_millis(config.request_timeout_ms));
        let secrets = config.secret_source()?;
        if let Some(pem) = &secrets.signing_key {
            // A bad key file stops the start, not the first admission.
            Keyring::new(pem.expose_secret(), &secrets.retired_keys)?;
        }
        let service = Service::new(
            store.clone(),
            ServiceSettings {
                session_ms: config.session_seconds * 1_000,
                grace_ms: config.grace_seconds * 1_000,
                default_capacity: config.grant_params().default_capacity,
                max_poll_ms: config.max_poll_ms(),
                hidden_poll_ms: config.hidden_poll_ms(),
                events: config.events,
                challenge: config.challenge,
                secrets,
                fail_mode: config.fail_mode,
            },
        );
        // Ready while passes keep coming: every tick, at least every few seconds.
        let health =
            Health::new((config.granter_tick() * 5).max(std::time::Duration::from_secs(5)));
        let shutdown = CancellationToken::new();
        let granter = Granter {
            store: store.clone(),
            params: config.grant_params(),
            health: health.clone(),
        };
        let granter_loop = (config.granter_mode == GranterMode::Auto).then(|| {
            tokio::spawn(granter::run(
                granter.clone(),
                config.granter_tick(),
                shutdown.clone(),
            ))
        });
        let heartbeats = tokio::spawn(
            store
                .clone()
                .write_heartbeats(config.heartbeat_flush(), shutdown.clone()),
        );
        tokio::spawn(passes::watch_revocations(
            store,
            service.revocations(),
            shutdown.clone(),
        ));
        let listener = TcpListener::bind(options.site_addr).await?;
        let admin_token = config.admin_token()?;
        let state = AppState(Arc::new(Shared {
            leptos_options: options,
            service,
            granter: health,
            metrics_token: config.metrics_token()?,
            failures: FailureBudget::for_tokens(config.trusted_proxies.clone()),
            console: admin_token.as_ref().map(Console::new),
        }));
        telemetry::metrics_handle();
        let limits = Limits {
            joins: ClientLimiter::new(
                config.join_rate_per_second,
                config.join_burst,
                config.trusted_proxies.clone(),
            ),
            request_timeout: std::time::Duration::from_millis(config.request_timeout_ms),
            admin_token,
        };
        let fast_lane = fast::lane(JoinLane {
            service: state.service.clone(),
            limiter: limits.joins.clone(),
            deadline: limits.request_timeout,
        });
        Ok(Self {
            listener,
            router: router(state, limits),
            granter_loop,
            heartbeats,
            granter,
            shutdown,
            connections: serve::Connections {
                header_timeout: std::time::Duration::from_millis(config.header_timeout_ms),
                idle: std::time::Duration::from_millis(config.idle_timeout_ms),
                max: serve::Connections::max_for_this_process(config.max_connections as usize),
            },
            fast_lane,
        })
    }

    /// The granter, to step by hand in manual mode.
    pub fn granter(&self) -> Granter {
        self.granter.clone()
    }

    /// The room's clock (a manual one moves when its holder advances it).
    pub fn clock(&self) -> crate::clock::Clock {
        self.granter.store.clock().clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `stop` is cancelled, then finishes in-flight requests, the current
    /// granter pass and the heartbeats not written yet.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let shutdown = self.shutdown.clone();
        serve::serve(
            self.listener,
            self.router,
            self.fast_lane,
            self.connections,
            async move {
                stop.cancelled().await;
                shutdown.cancel();
            },
        )
        .await;
        self.shutdown.cancel();
        if let Some(granter) = self.granter_loop {
            let _ = granter.await;
        }
        // The heartbeats of polls answered from memory, written before leaving.
        let _ = self.heartbeats.await;
        tracing::info!("stopped");
        Ok(())
    }
}
