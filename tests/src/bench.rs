//! What the benchmark binaries (`src/bin/*_bench.rs`) share: percentiles printed the same way,
//! a process's CPU time and memory from /proc, and rate limits out of the way of a load from
//! one address.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_backend::AppState;
use switchboard_core::{Client, Session};
use switchboard_shared::{CreateOperatorRequest, Limits};

use crate::{ADMIN_PASSWORD, OPERATOR_PASSWORD};

/// The benchmark's server, run as its own child process (this binary again, with `serve` and
/// `args`), so its CPU and memory are its own: the child, its pid and its base URL. The
/// child runs [`serve`]; it stops when its stdin closes (when the child is dropped or killed).
pub fn spawn_server(args: &[&str]) -> (Child, u32, String) {
    spawn_server_on(None, args)
}

/// [`spawn_server`], the child (every thread of it) kept to core `cpu` when given.
pub fn spawn_server_on(cpu: Option<usize>, args: &[&str]) -> (Child, u32, String) {
    let exe = std::env::current_exe().expect("this binary");
    let mut command = Command::new(exe);
    if let Some(cpu) = cpu {
        pin_command(&mut command, cpu);
    }
    let mut child = command
        .arg("serve")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its address");
    (child, pid, format!("http://{}", line.trim()))
}

/// The child's side of [`spawn_server`]: the backend on SQLite in `dir` (admin
/// `admin@example.test` / [`ADMIN_PASSWORD`]); `prepare` runs on its state before the address
/// is printed (to seed data). Serves until stdin closes.
pub fn serve(dir: &Path, prepare: impl AsyncFnOnce(&AppState)) {
    serve_on(dir, None, None, prepare)
}

/// [`serve`] on the database at `database_url` (else SQLite in `dir`), joined to the other
/// nodes on it through the NATS at `nats_url` when one is given.
pub fn serve_on(
    dir: &Path,
    database_url: Option<&str>,
    nats_url: Option<&str>,
    prepare: impl AsyncFnOnce(&AppState),
) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = switchboard_backend::config::Config {
            listen: listener.local_addr().unwrap(),
            database_url: database_url.map_or_else(
                || format!("sqlite://{}", dir.join("bench.db").display()),
                str::to_owned,
            ),
            admin_email: "admin@example.test".into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            secret_key_file: dir.join("switchboard.key"),
            max_connections_per_address: 1_000_000,
            nats_url: nats_url.map(str::to_owned),
            log: "warn".into(),
            ..Default::default()
        };
        let addr = config.listen;
        let state = switchboard_backend::init(config)
            .await
            .expect("backend starts");
        prepare(&state).await;
        println!("{addr}");
        std::io::stdout().flush().unwrap();
        let stdin_closed = async {
            tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
            })
            .await
            .ok();
        };
        switchboard_backend::serve(state, listener, stdin_closed)
            .await
            .expect("serve");
    });
}

/// Keeps this process's threads (the calling one, and every one it starts from now on) to
/// core `cpu`. False when the system refuses.
pub fn pin_self(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read and write it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Makes the program `command` starts run on core `cpu` only (the affinity is set in the
/// child before it runs the program, and its threads inherit it).
pub fn pin_command(command: &mut Command, cpu: usize) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only calls sched_setaffinity (async-signal
    // safe) on a set on its own stack.
    unsafe {
        command.pre_exec(move || {
            pin_self(cpu);
            Ok(())
        });
    }
}

/// The number of cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The benchmark server's admin ([`serve`]'s), signed in.
pub async fn admin(base: &str) -> Session {
    Client::new(base)
        .expect("a client")
        .login("admin@example.test", ADMIN_PASSWORD)
        .await
        .expect("admin login")
}

/// A new operator `name` with the address `{tag}@example.test`, made by `admin`, signed in.
pub async fn new_operator(admin: &Session, base: &str, tag: &str, name: &str) -> Session {
    let email = format!("{tag}@example.test");
    admin
        .create_operator(&CreateOperatorRequest {
            email: email.clone(),
            name: name.into(),
            password: OPERATOR_PASSWORD.into(),
            is_admin: false,
            ring_group: None,
        })
        .await
        .expect("operator");
    Client::new(base)
        .expect("a client")
        .login(&email, OPERATOR_PASSWORD)
        .await
        .expect("operator login")
}

/// The `p`th percentile of sorted values (nearest rank); NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How long the disk under `dir` takes to make a small write durable: `n` times a 4 KiB
/// write then `fdatasync` (as a SQLite commit with `synchronous = FULL` syncs its log), the
/// latencies in ms, sorted. Every stored message waits for at least one: the floor under
/// "stored before relayed".
pub fn disk_sync_ms(dir: &Path, n: usize) -> std::io::Result<Vec<f64>> {
    use std::os::unix::fs::FileExt;
    let path = dir.join("sync-probe");
    let file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    // Written once first, so the probes rewrite blocks in place like a reused log.
    for i in 0..64 {
        file.write_all_at(&block, i * 4096)?;
    }
    file.sync_all()?;
    let mut took = Vec::with_capacity(n);
    for i in 0..n as u64 {
        file.write_all_at(&block, (i % 64) * 4096)?;
        let t = std::time::Instant::now();
        file.sync_data()?;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(file);
    std::fs::remove_file(&path)?;
    took.sort_by(f64::total_cmp);
    Ok(took)
}

/// Prints one line of figures in milliseconds: p50, p99, min, max and how many.
pub fn report(what: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{what:<48} p50 {:>7.1} ms   p99 {:>7.1} ms   min {:>7.1}   max {:>7.1}   (n={})",
        percentile(&values, 50.0),
        percentile(&values, 99.0),
        values.first().copied().unwrap_or(f64::NAN),
        values.last().copied().unwrap_or(f64::NAN),
        values.len()
    );
}

/// A process's CPU time (user + system) and resident memory in KiB, from /proc (Linux;
/// USER_HZ is 100). `"self"` for this process.
pub fn usage(pid: &str) -> Option<(Duration, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    Some((Duration::from_millis(ticks * 10), rss_kb))
}

/// Every rate limit raised out of the way (thousands of visitors from one address).
pub fn unlimited() -> Limits {
    let n = 1_000_000;
    Limits {
        chats_per_visitor_per_minute: n,
        chats_per_address_per_minute: n,
        new_visitors_per_address_per_minute: n,
        offline_messages_per_address_per_minute: n,
        frames_per_connection_per_second: n,
        logins_per_account_per_minute: n,
        logins_per_address_per_minute: n,
        transcripts_per_chat: n,
        mails_per_address_per_hour: n,
    }
}
