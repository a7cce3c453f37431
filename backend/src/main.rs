//! `switchboard`: loads the config, starts logging, and runs the server until Ctrl-C or
//! SIGTERM.

use std::io::IsTerminal;

use switchboard_backend::config::LogFormat;
use switchboard_backend::{Config, run};
use tracing_subscriber::EnvFilter;

/// Gives memory back to the system after a burst (sign-in floods, many connections closing).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchboard: {e}");
            std::process::exit(2);
        }
    };
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        // One JSON object a line, for log collectors.
        LogFormat::Json => logs.json().init(),
        // Colours only for a person at a terminal, not in a file or a pipe.
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
    }
    tracing::info!(?config, "starting");
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
    let shutdown = async {
        let terminate = async {
            #[cfg(unix)]
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                term.recv().await;
                return;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
        tracing::info!("shutting down");
    };
    if let Err(e) = run(config, listener, shutdown).await {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}
