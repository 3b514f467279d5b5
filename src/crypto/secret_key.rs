//! The service secret (signing, sealing): configured, or generated once and kept beside
//! the SQLite database.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::domain::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("AUTHENTICON_SECRET_KEY: required when the database is not a SQLite file")]
    Required,
    #[error("secret key file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Where the secret lives when none is configured: beside the SQLite database.
pub fn secret_file_for(db_path: &str) -> PathBuf {
    let mut p = PathBuf::from(db_path).into_os_string();
    p.push(".secret");
    PathBuf::from(p)
}

/// How the secret was found, so start-up can say so once.
#[derive(Debug, PartialEq, Eq)]
pub enum SecretSource {
    Configured,
    File(PathBuf),
    Generated(PathBuf),
    /// In-memory SQLite: lives as long as the process, like the database.
    Ephemeral,
}

/// The configured secret, else the one kept beside the SQLite database (created on first
/// use with mode 0600), else an error naming the variable.
pub fn resolve(
    configured: Option<&Secret>,
    sqlite_path: Option<&str>,
    in_memory_sqlite: bool,
) -> Result<(Secret, SecretSource), SecretError> {
    if let Some(s) = configured {
        return Ok((s.clone(), SecretSource::Configured));
    }
    if in_memory_sqlite {
        return Ok((generate(), SecretSource::Ephemeral));
    }
    let db = sqlite_path.ok_or(SecretError::Required)?;
    let path = secret_file_for(db);
    let file_err =
        |e: std::io::Error| SecretError::File { path: path.display().to_string(), reason: e.to_string() };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let text = text.trim();
            if text.len() < 32 {
                return Err(SecretError::File {
                    path: path.display().to_string(),
                    reason: "holds fewer than 32 characters".into(),
                });
            }
            Ok((Secret::new(text), SecretSource::File(path.clone())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = generate();
            write_private(&path, secret.expose()).map_err(file_err)?;
            Ok((secret, SecretSource::Generated(path.clone())))
        }
        Err(e) => Err(file_err(e)),
    }
}

fn generate() -> Secret {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    Secret::new(hex::encode(bytes))
}

/// Creates the file with mode 0600 from the start (no window where others can read it).
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let db = db.to_str().unwrap();
        let (first, src) = resolve(None, Some(db), false).unwrap();
        assert!(matches!(src, SecretSource::Generated(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_file_for(db)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, src) = resolve(None, Some(db), false).unwrap();
        assert!(matches!(src, SecretSource::File(_)));
        assert_eq!(first, second);
    }

    #[test]
    fn postgres_needs_a_configured_secret() {
        assert!(matches!(resolve(None, None, false), Err(SecretError::Required)));
    }
}
