//! Several nodes on one PostgreSQL, joined by a test-local `nats-server` on a free port (the
//! machine's own NATS is not the tests'): [`Nats`], [`nodes`], and a round-robin
//! [`Balancer`] in front of them ([`crate::Db::Cluster`]).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_backend::Config;
use switchboard_core::Client;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::{ADMIN_PASSWORD, TempDir, TestServer, free_port, fresh_postgres};

/// A `nats-server` of the test's own; killed when dropped.
pub struct Nats {
    port: u16,
    child: Option<Child>,
}

impl Nats {
    /// Starts one on a free port and waits until it takes connections.
    pub async fn start() -> Nats {
        let mut nats = Nats {
            port: free_port(),
            child: None,
        };
        nats.start_again().await;
        nats
    }

    /// `nats://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (as a crash would): the nodes lose the bus until [`Nats::start_again`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub async fn start_again(&mut self) {
        // Debian installs it in /usr/sbin, which a user's PATH may not have.
        let program = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("nats-server is needed for the cluster tests (apt install nats-server)");
        let child = Command::new(program)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `n` nodes on one fresh PostgreSQL database and one secret key, joined through `nats`, each
/// with the test config changed by `tweak`.
pub async fn nodes(n: usize, nats: &Nats, tweak: impl FnOnce(&mut Config)) -> Vec<TestServer> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = Arc::new(TempDir::new("switchboard-cluster"));
    let mut template = Config {
        database_url: fresh_postgres().await,
        admin_email: "admin@example.test".into(),
        admin_password: Some(ADMIN_PASSWORD.into()),
        secret_key_file: dir.join("switchboard.key"),
        nats_url: Some(nats.url()),
        ..Config::default()
    };
    tweak(&mut template);
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            listen: listener.local_addr().unwrap(),
            ..template.clone()
        };
        nodes.push(TestServer::start_on(listener, config, dir.clone()).await);
    }
    nodes
}

/// A TCP load balancer: each new connection goes to the next node, or to the one after when
/// that one does not answer (it is stopped); no stickiness. Stops taking connections when
/// dropped.
pub struct Balancer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Balancer {
    /// Starts one on a free port in front of `nodes`.
    pub async fn start(nodes: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut next = 0;
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                let _ = inbound.set_nodelay(true);
                let first = next;
                next += 1;
                let nodes = nodes.clone();
                tokio::spawn(async move {
                    for i in 0..nodes.len() {
                        if let Ok(outbound) =
                            TcpStream::connect(nodes[(first + i) % nodes.len()]).await
                        {
                            let _ = outbound.set_nodelay(true);
                            relay(inbound, outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { addr, task }
    }

    /// `http://addr`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Copies both ways until the node's side ends; the client's side failing (the node closed
/// before reading a whole request it refused) does not cut the node's answer short.
async fn relay(inbound: TcpStream, outbound: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_node, mut to_node) = outbound.into_split();
    let up = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_node).await;
        let _ = to_node.shutdown().await;
    });
    let _ = tokio::io::copy(&mut from_node, &mut to_client).await;
    let _ = to_client.shutdown().await;
    up.abort();
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a [`crate::Db::Cluster`] server keeps besides its own node.
pub(crate) struct Parts {
    _peer: TestServer,
    _balancer: Balancer,
    _nats: Nats,
}

/// Two nodes behind a [`Balancer`]: the first node, with the balancer's `base` and an admin
/// signed in through it.
pub(crate) async fn behind_a_balancer(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let nats = Nats::start().await;
    let mut both = nodes(2, &nats, tweak).await;
    let peer = both.pop().unwrap();
    let mut first = both.pop().unwrap();
    let balancer = Balancer::start(vec![first.addr, peer.addr]).await;
    first.base = balancer.base();
    first.admin = Client::new(&first.base)
        .unwrap()
        .login("admin@example.test", ADMIN_PASSWORD)
        .await
        .expect("admin login");
    first.cluster = Some(Box::new(Parts {
        _peer: peer,
        _balancer: balancer,
        _nats: nats,
    }));
    first
}
