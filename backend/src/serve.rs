//! The accept loop in front of the router: where a stranger's connection is bounded before it
//! can cost anything.
//!
//! - Every connection holds a slot, from a total and a per-address budget, for as long as its
//!   socket lives (an upgraded WebSocket included). Past either budget a new connection is
//!   closed at once: a flood from one address cannot crowd out everyone else, and the process
//!   never runs out of file descriptors.
//! - Request headers must arrive within the header timeout, counted from when the server starts
//!   waiting for a request: a connection that says nothing, or trickles a header line now and
//!   then, is closed (slowloris).
//! - Every request knows its peer (`ConnectInfo<SocketAddr>`), for the limits keyed by address.
//!
//! Shutdown stops accepting, lets requests in flight finish, and closes idle connections.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// File descriptors kept back from the connection budget (database, files, DNS…).
const RESERVED_FDS: u64 = 128;

/// How many connections, and how slow.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a request's headers.
    pub header_timeout: Duration,
    /// Connections open at once, in all.
    pub total: usize,
    /// Connections open at once from one address.
    pub per_address: usize,
}

/// Raises this process's soft limit on open files to its hard limit, and returns the limit in
/// force (`None` where it cannot be read).
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every unix
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The connection budget that fits in `fd_limit` open files.
pub fn total_for(fd_limit: Option<u64>) -> usize {
    let fds = fd_limit
        .unwrap_or(1024)
        .saturating_sub(RESERVED_FDS)
        .max(16);
    usize::try_from(fds).unwrap_or(usize::MAX)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let budget = Budget::new(limits);
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of descriptors or memory for a moment: let others finish.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Some(slot) = budget.take(peer.ip()) else {
                    tracing::debug!(%peer, "connection refused: over the connection limit");
                    continue; // dropped: closed at once
                };
                let _ = stream.set_nodelay(true);
                let io = Counted { stream, _slot: slot };
                let conn = connection(io, peer, router.clone(), limits, stopping.clone());
                connections.spawn(conn);
                while connections.try_join_next().is_some() {}
            }
            () = &mut shutdown => break,
        }
    }
    stop.send_replace(true);
    while connections.join_next().await.is_some() {}
}

/// One HTTP/1 connection (and, after an upgrade, its WebSocket, which keeps the slot).
async fn connection(
    io: Counted,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// The open connections, in all and per address.
#[derive(Clone)]
struct Budget {
    limits: Limits,
    open: Arc<Mutex<Open>>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Budget {
    fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            open: Arc::default(),
        }
    }

    /// A slot for a new connection from `address`, if both budgets allow one.
    fn take(&self, address: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let from_there = open.by_address.get(&address).copied().unwrap_or(0);
        if open.total >= self.limits.total || from_there >= self.limits.per_address {
            return None;
        }
        open.total += 1;
        open.by_address.insert(address, from_there + 1);
        Some(Slot {
            budget: self.clone(),
            address,
        })
    }
}

/// A connection's place in the budget, given back when the socket closes.
struct Slot {
    budget: Budget,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.budget.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

/// A socket that holds its slot until it closes, however it is used (HTTP or WebSocket).
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_hold_per_address_and_in_all_and_free_on_close() {
        let budget = Budget::new(Limits {
            header_timeout: Duration::from_secs(1),
            total: 3,
            per_address: 2,
        });
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            [10, 0, 0, 3].into(),
        );
        let a1 = budget.take(a).unwrap();
        let _a2 = budget.take(a).unwrap();
        assert!(budget.take(a).is_none(), "two from one address");
        let _b1 = budget.take(b).unwrap();
        assert!(budget.take(c).is_none(), "three in all");
        drop(a1);
        assert!(
            budget.take(c).is_some(),
            "a closed connection frees its slot"
        );
    }

    #[test]
    fn the_budget_leaves_descriptors_for_the_rest() {
        assert_eq!(total_for(Some(1024)), 896);
        assert_eq!(total_for(Some(100)), 16);
        assert_eq!(total_for(None), 896);
    }
}
