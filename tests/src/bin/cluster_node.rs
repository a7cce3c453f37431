//! One Switchboard node configured from the environment, as the server binary is (`SWITCHBOARD_*`
//! variables), serving until it is killed: `tests/tests/cluster.rs` starts it as a process of its
//! own to kill it with SIGKILL mid-chat. (The server binary lives in another package, which
//! cargo does not build for this package's tests; this one it does.)

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match switchboard_backend::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cluster_node: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        switchboard_backend::run(config, listener, std::future::pending()).await
    });
    if let Err(e) = served {
        eprintln!("cluster_node: {e}");
        std::process::exit(1);
    }
}
