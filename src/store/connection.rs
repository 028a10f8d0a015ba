//! The connection to Redis: one server, or a Redis Cluster, behind one
//! [`redis::aio::ConnectionLike`], so every store operation has one code path.
//!
//! - One server: a multiplexed connection that reconnects by itself
//!   ([`ConnectionManager`]).
//! - A cluster: redis-rs's cluster connection, which routes each command (or pipeline) to
//!   the primary of its keys' slot, follows `MOVED`/`ASK`, and refreshes the slot map after
//!   a failover. It is made on first use, so the server starts while the cluster is away.
//!
//! Both are lazy and bounded by the response timeout: while Redis is away every command
//! fails fast and the room answers 503.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, Slot, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

use super::StoreError;

/// Where the room's Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One Redis server (`redis://host:port`).
    Single(String),
    /// Seed nodes of a Redis Cluster; the rest of the cluster is found from them.
    Cluster(Vec<String>),
}

/// A handle that hands out connections; cheap to clone.
#[derive(Clone)]
pub struct Connector(Inner);

#[derive(Clone)]
enum Inner {
    Single(ConnectionManager),
    Cluster(Arc<LazyCluster>),
}

/// A cluster client and the connection it makes on first use.
struct LazyCluster {
    client: ClusterClient,
    conn: OnceCell<ClusterConnection>,
}

impl Connector {
    /// A Redis Cluster (each script call must stay within one slot).
    pub fn is_cluster(&self) -> bool {
        matches!(self.0, Inner::Cluster(_))
    }

    pub fn open(target: &Target, response_timeout: Duration) -> Result<Self, StoreError> {
        let bad = |e: redis::RedisError| StoreError::Unexpected(e.to_string());
        Ok(Self(match target {
            Target::Single(url) => {
                let client = redis::Client::open(url.as_str()).map_err(bad)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(response_timeout))
                    .set_response_timeout(Some(response_timeout))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_millis(500));
                Inner::Single(ConnectionManager::new_lazy_with_config(client, config)?)
            }
            Target::Cluster(nodes) => {
                // The response timeout bounds a whole request, redirections and retries
                // included; retries are quick so that a failover is a short run of 503s
                // rather than requests that hang.
                let client = ClusterClient::builder(nodes.iter().map(String::as_str))
                    .connection_timeout(response_timeout)
                    .response_timeout(response_timeout)
                    .retries(3)
                    .min_retry_wait(10)
                    .max_retry_wait(200)
                    .build()
                    .map_err(bad)?;
                Inner::Cluster(Arc::new(LazyCluster {
                    client,
                    conn: OnceCell::new(),
                }))
            }
        }))
    }

    /// A connection to run commands on (for a cluster, made on first use).
    pub async fn get(&self) -> Result<Conn, StoreError> {
        match &self.0 {
            Inner::Single(conn) => Ok(Conn::Single(conn.clone())),
            Inner::Cluster(lazy) => {
                let conn = lazy
                    .conn
                    .get_or_try_init(|| lazy.client.get_async_connection())
                    .await?;
                Ok(Conn::Cluster(conn.clone()))
            }
        }
    }
}

/// One connection to one server or to a cluster.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    /// `WAIT replicas timeout_ms` on the server holding `key` (on a cluster, its slot's
    /// primary: `WAIT` names no key, so it is routed by hand), after this connection's
    /// writes there. Returns how many replicas confirmed them.
    pub async fn wait_for_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout_ms: u64,
    ) -> RedisResult<i64> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(timeout_ms);
        match self {
            Conn::Single(c) => wait.query_async(c).await,
            Conn::Cluster(c) => {
                let primary = Route::with_slot(Slot::for_key(key), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(primary));
                redis::from_redis_value(c.route_command(wait, routing).await?).map_err(Into::into)
            }
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}
