//! Secrets at rest: push credentials are stored encrypted (AES-256-GCM) under a key that is
//! not in the database: `SWITCHBOARD_SECRET_KEY`, or a key file created on first start. A
//! database dump or backup alone does not reveal them.

use std::path::Path;

use rand::RngCore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::config::Config;
use crate::error::Error;

/// What sealed text starts with (the format's version).
const PREFIX: &str = "v1.";

/// Encrypts and decrypts stored secrets.
pub struct Sealer {
    key: LessSafeKey,
    /// The key before this one (while changing keys): opens, never seals.
    previous: Option<LessSafeKey>,
}

/// A decrypted secret.
pub struct Opened {
    /// The plain text.
    pub plain: Vec<u8>,
    /// Sealed with the previous key: save it again.
    pub stale: bool,
}

fn aes_key(bytes: &[u8; 32]) -> Result<LessSafeKey, Error> {
    let key = UnboundKey::new(&AES_256_GCM, bytes)
        .map_err(|_| Error::Config("the secret key is not an AES-256 key".into()))?;
    Ok(LessSafeKey::new(key))
}

fn parse_key(text: &str) -> Result<[u8; 32], Error> {
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Error::Config("a secret key must be 64 hex characters (32 bytes)".into()))
}

impl Sealer {
    /// A sealer for 32 key bytes (and the key before them, while changing keys).
    pub fn new(key: &[u8; 32], previous: Option<&[u8; 32]>) -> Result<Sealer, Error> {
        Ok(Sealer {
            key: aes_key(key)?,
            previous: previous.map(aes_key).transpose()?,
        })
    }

    /// The configured key: `secret_key`, or the key file (created when missing).
    pub fn from_config(config: &Config) -> Result<Sealer, Error> {
        let text = match &config.secret_key {
            Some(key) => key.clone(),
            None => read_or_create(&config.secret_key_file)?,
        };
        let previous = config
            .secret_key_previous
            .as_deref()
            .map(parse_key)
            .transpose()?;
        Sealer::new(&parse_key(&text)?, previous.as_ref())
    }

    /// Encrypts `plain` bound to `purpose` (which must be given again to open it).
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Result<String, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut buf,
            )
            .map_err(|_| Error::Internal("AES-GCM refused to seal".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", hex::encode(out)))
    }

    /// Decrypts what [`Sealer::seal`] made for `purpose` with this key or the previous one; a
    /// wrong key, purpose or a changed text is an error.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Opened, Error> {
        let unreadable = || {
            Error::Config(format!(
                "the stored {purpose} cannot be decrypted: the secret key \
                 (SWITCHBOARD_SECRET_KEY or its key file) is not the one they were saved with"
            ))
        };
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(unreadable)?;
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let keys = std::iter::once(&self.key).chain(self.previous.as_ref());
        for (i, key) in keys.enumerate() {
            let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
            let mut buf = rest.to_vec();
            if let Ok(plain) = key.open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buf) {
                return Ok(Opened {
                    plain: plain.to_vec(),
                    stale: i > 0,
                });
            }
        }
        Err(unreadable())
    }
}

/// Reads the key file, or creates it with a new random key (readable by its owner only).
fn read_or_create(path: &Path) -> Result<String, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let text = hex::encode(key);
            write_private(path, &text).map_err(|e| {
                Error::Config(format!(
                    "cannot create the key file {}: {e}",
                    path.display()
                ))
            })?;
            tracing::warn!(
                file = %path.display(),
                "created the secret key that encrypts stored push credentials: keep it with \
                 your backups (or set SWITCHBOARD_SECRET_KEY)"
            );
            Ok(text)
        }
        Err(e) => Err(Error::Config(format!(
            "cannot read the key file {}: {e}",
            path.display()
        ))),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_purpose() {
        let sealer = Sealer::new(&[7; 32], None).unwrap();
        let sealed = sealer
            .seal("push settings", b"-----BEGIN PRIVATE KEY-----")
            .unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("PRIVATE"));
        assert_ne!(
            sealed,
            sealer
                .seal("push settings", b"-----BEGIN PRIVATE KEY-----")
                .unwrap()
        );
        let opened = sealer.open("push settings", &sealed).unwrap();
        assert_eq!(opened.plain, b"-----BEGIN PRIVATE KEY-----");
        assert!(!opened.stale);
        assert!(
            Sealer::new(&[8; 32], None)
                .unwrap()
                .open("push settings", &sealed)
                .is_err()
        );
        assert!(sealer.open("other", &sealed).is_err());
        let mut changed = sealed.clone().into_bytes();
        let last = changed.len() - 1;
        changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
        assert!(
            sealer
                .open("push settings", &String::from_utf8(changed).unwrap())
                .is_err()
        );
        assert!(sealer.open("push settings", "v1.zz").is_err());
    }

    #[test]
    fn a_new_key_reads_what_the_previous_one_sealed() {
        let old = Sealer::new(&[1; 32], None).unwrap();
        let sealed = old.seal("p", b"secret").unwrap();
        let changing = Sealer::new(&[2; 32], Some(&[1; 32])).unwrap();
        let opened = changing.open("p", &sealed).unwrap();
        assert_eq!(
            (opened.plain.as_slice(), opened.stale),
            (&b"secret"[..], true)
        );
        let resealed = changing.seal("p", b"secret").unwrap();
        assert!(
            old.open("p", &resealed).is_err(),
            "new seals use the new key"
        );
        assert!(
            !Sealer::new(&[2; 32], None)
                .unwrap()
                .open("p", &resealed)
                .unwrap()
                .stale
        );
    }

    #[test]
    fn the_key_file_is_created_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("sb-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            secret_key_file: dir.join("switchboard.key"),
            ..Config::default()
        };
        let _ = std::fs::remove_file(&config.secret_key_file);
        let first = Sealer::from_config(&config).unwrap();
        let sealed = first.seal("p", b"secret").unwrap();
        let again = Sealer::from_config(&config).unwrap();
        assert_eq!(again.open("p", &sealed).unwrap().plain, b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.secret_key_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        for bad in [
            Config {
                secret_key: Some("not hex".into()),
                ..Config::default()
            },
            Config {
                secret_key: Some("00".repeat(32)),
                secret_key_previous: Some("abc".into()),
                ..Config::default()
            },
        ] {
            assert!(Sealer::from_config(&bad).is_err());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
