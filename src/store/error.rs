//! What can go wrong talking to Redis, and how a Redis error is read.

use redis::RedisError;

/// What can go wrong talking to Redis.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer (down, unreachable, timed out).
    #[error("redis is unavailable: {0}")]
    Unavailable(RedisError),
    /// Redis answered with an error or with something the code did not expect: a bug.
    #[error("unexpected redis reply: {0}")]
    Unexpected(String),
    /// The event's number this process used is not the event's any more (Redis lost data
    /// and the event was numbered again): the mapping is refreshed and the call made again
    /// by the store itself; it reaches callers only if that happens twice in a row.
    #[error("stale event number")]
    StaleEvent,
    /// Every event number (24 bits) is taken: no new event can be registered.
    #[error("every event number is taken")]
    EventsFull,
    /// A write was made but fewer replicas than asked for confirmed it in time (see
    /// [`Durability`]); it may be lost in a failover, so it is not acknowledged.
    #[error("a write reached {acked} of {wanted} replicas in time")]
    Unreplicated { acked: i64, wanted: u32 },
    /// Redis ran a join after its deadline (it was stalled): the caller has been told the
    /// join failed, or is about to be, so nothing was written and a retry makes it anew.
    #[error("redis ran the write too late; nothing was written")]
    Late,
}

impl From<RedisError> for StoreError {
    fn from(e: RedisError) -> Self {
        match error_code(&e).as_deref() {
            Some("STALEEVENT") => return StoreError::StaleEvent,
            Some("EVENTSFULL") => return StoreError::EventsFull,
            _ => {}
        }
        // Redis starting (LOADING its AOF), busy, or a cluster/replica in transition (a
        // redirection inside a pipeline, which the cluster client does not follow), out
        // of memory (maxmemory reached under `noeviction`) or read-only (a demoted primary
        // after a failover): all pass or are an operator's to fix, and the client is asked
        // to retry; none is a bug of the request.
        let transient = matches!(
            error_code(&e).as_deref(),
            Some(
                "LOADING"
                    | "BUSY"
                    | "MASTERDOWN"
                    | "TRYAGAIN"
                    | "CLUSTERDOWN"
                    | "OOM"
                    | "READONLY"
                    | "NOREPLICAS"
                    | "MOVED"
                    | "ASK"
            )
        );
        // The cluster client has no connection to the slot's node (a failover in progress).
        let no_node = e.kind() == redis::ErrorKind::ClusterConnectionNotFound;
        if transient
            || no_node
            || e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            StoreError::Unavailable(e)
        } else {
            StoreError::Unexpected(e.to_string())
        }
    }
}

/// The error code Redis answered (`OOM`, `READONLY`, …), also when the error came back
/// from within a pipeline: redis-rs names the code of a pipeline's failure only when it is
/// one it knows.
pub(super) fn error_code(e: &RedisError) -> Option<String> {
    e.code().map(str::to_owned).or_else(|| {
        let items = e.clone().into_server_errors()?;
        items.first().map(|(_, error)| error.code().to_owned())
    })
}
