//! A real SMTP server for the mail tests: Python's aiosmtpd (`tests/smtp/sink.py`, Debian's
//! `python3-aiosmtpd`) on a free loopback port, plain or with STARTTLS / implicit TLS under a
//! test certificate authority made here, with or without AUTH. What it received is read back
//! as decoded JSON (headers, text and HTML parts).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use switchboard_shared::{MailSettingsInput, SmtpSecurity};

use crate::TempDir;

/// The user and password a sink with AUTH takes.
pub const USER: &str = "mailer";
/// See [`USER`].
pub const PASSWORD: &str = "smtp-password-1";

/// How the sink is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (a local relay).
    None,
    /// STARTTLS required, then AUTH.
    Starttls,
    /// TLS from the first byte, then AUTH.
    Tls,
}

/// A test certificate authority and a `localhost` certificate it signed.
pub struct TestCa {
    /// The CA certificate (PEM): what the server is told to trust.
    pub ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl TestCa {
    /// Makes a fresh CA and a leaf certificate for `localhost` and 127.0.0.1.
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Switchboard test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        TestCa {
            ca_pem: ca_cert.pem(),
            cert_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// One message the sink accepted (or, in `aborted`, took in but never answered).
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// The headers, names lower-cased, values decoded.
    pub headers: std::collections::HashMap<String, String>,
    /// The text/plain part, decoded.
    pub text: Option<String>,
    /// The text/html part, decoded.
    pub html: Option<String>,
    /// The message as it came.
    pub raw: String,
}

impl Received {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }
}

/// A running sink.
pub struct SmtpSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// How it is secured.
    pub security: Security,
    /// Whether it requires AUTH ([`USER`], [`PASSWORD`]).
    pub auth: bool,
    /// The CA that signed its certificate (with TLS).
    pub ca: Option<TestCa>,
    dir: TempDir,
    child: Option<Child>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Python with aiosmtpd: `SWITCHBOARD_TEST_PYTHON`, else Debian's, else `python3`.
fn python() -> String {
    if let Ok(p) = std::env::var("SWITCHBOARD_TEST_PYTHON") {
        return p;
    }
    if std::path::Path::new("/usr/bin/python3").exists() {
        return "/usr/bin/python3".into();
    }
    "python3".into()
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp/sink.py")
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub async fn start(security: Security, auth: bool) -> SmtpSink {
        let ca = (security != Security::None).then(TestCa::new);
        let mut sink = SmtpSink {
            port: crate::free_port(),
            security,
            auth,
            ca,
            dir: TempDir::new("switchboard-smtp"),
            child: None,
        };
        sink.start_again().await;
        sink
    }

    /// Starts the stopped sink again on the same port (the server "comes back").
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the sink is running");
        let mut cmd = Command::new(python());
        cmd.arg(script())
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path());
        if let Some(ca) = &self.ca {
            let cert = self.dir.join("cert.pem");
            let key = self.dir.join("key.pem");
            std::fs::write(&cert, &ca.cert_pem).unwrap();
            std::fs::write(&key, &ca.key_pem).unwrap();
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            if self.security == Security::Tls {
                cmd.arg("--implicit-tls");
            }
        }
        if self.auth {
            cmd.arg("--auth").arg(format!("{USER}:{PASSWORD}"));
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "starting the SMTP sink ({} with aiosmtpd: apt-get install python3-aiosmtpd): {e}",
                python()
            )
        });
        let stdout = child.stdout.take().unwrap();
        let first_line = tokio::task::spawn_blocking(move || {
            std::io::BufReader::new(stdout).lines().next().transpose()
        });
        let ready = tokio::time::timeout(Duration::from_secs(20), first_line)
            .await
            .expect("the SMTP sink starts within 20 s")
            .unwrap()
            .unwrap();
        assert_eq!(
            ready.as_deref(),
            Some(format!("ready {}", self.port).as_str()),
            "the SMTP sink did not start (is python3-aiosmtpd installed?)"
        );
        self.child = Some(child);
    }

    /// Stops the sink (the server "goes down"): connections are refused until
    /// [`SmtpSink::start_again`].
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
    }

    /// Sets the sink's mood: `defer` (451 to every DATA), `hold` (no answer to DATA until the
    /// mood changes) or `` (accept).
    pub fn set_mode(&self, mode: &str) {
        let tmp = self.dir.join("mode.tmp");
        std::fs::write(&tmp, mode).unwrap();
        std::fs::rename(tmp, self.dir.join("mode")).unwrap();
    }

    /// The mail parameters that reach this sink, sent from `from`.
    pub fn settings(&self, from: &str, offline_recipients: &[&str]) -> MailSettingsInput {
        MailSettingsInput {
            host: match self.security {
                Security::None => "127.0.0.1".into(),
                _ => "localhost".into(),
            },
            port: self.port,
            security: match self.security {
                Security::None => SmtpSecurity::None,
                Security::Starttls => SmtpSecurity::Starttls,
                Security::Tls => SmtpSecurity::Tls,
            },
            username: self.auth.then(|| USER.to_string()),
            password: self.auth.then(|| PASSWORD.to_string()),
            from: from.into(),
            reply_to: None,
            offline_recipients: offline_recipients.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The CA file a server must trust to reach this sink over TLS (written once).
    pub fn ca_file(&self) -> Option<PathBuf> {
        let ca = self.ca.as_ref()?;
        let path = self.dir.join("ca.pem");
        std::fs::write(&path, &ca.ca_pem).unwrap();
        Some(path)
    }

    fn read(&self, prefix: &str) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        self.read("msg-")
    }

    /// Messages taken in whose client left before the answer (never accepted).
    pub fn aborted(&self) -> Vec<Received> {
        self.read("aborted-")
    }

    /// Waits until at least `n` messages were accepted (at most 30 s) and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited 30 s for {n} mails, got {}: {:?}",
                got.len(),
                got.iter().map(|m| m.header("subject")).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the sink holds a message's answer back (mood `hold`), at most 30 s.
    pub async fn wait_holding(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !self.dir.join("holding").exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail reached the sink's DATA within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(address)))
            .collect()
    }
}
