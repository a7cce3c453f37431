//! Several nodes on one PostgreSQL, joined by a test-local `nats-server` on a free port (the
//! machine's own NATS is not the tests'): [`Nats`] and [`nodes`].

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_backend::Config;

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

/// `n` nodes on one fresh PostgreSQL database and one secret key, joined through `nats`.
pub async fn nodes(n: usize, nats: &Nats, tweak: impl Fn(&mut Config)) -> Vec<TestServer> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = Arc::new(TempDir::new("switchboard-cluster"));
    let database_url = fresh_postgres().await;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = Config {
            listen: listener.local_addr().unwrap(),
            database_url: database_url.clone(),
            admin_email: "admin@example.test".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            secret_key_file: dir.join("switchboard.key"),
            nats_url: Some(nats.url()),
            ..Config::default()
        };
        tweak(&mut config);
        nodes.push(TestServer::start_on(listener, config, dir.clone()).await);
    }
    nodes
}
