//! Argon2id on a bounded set of blocking threads.
//!
//! SECURITY: each hash holds `memory_kib` of RAM for ~10 ms of CPU. A semaphore sized to
//! the cores (configurable) bounds both, so a login storm queues here instead of
//! starving the async workers or exhausting memory; every other request keeps flowing.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Cost;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed")]
    Task,
}

#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    permits: Semaphore,
    /// A real hash of a random password with the current parameters: verifying against it
    /// costs what a real verification costs, so unknown usernames take the same time.
    dummy_hash: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$`: hashes without it are re-hashed after a login.
    current_prefix: String,
}

impl Hasher {
    pub fn new(cost: Argon2Cost, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut random = [0u8; 24];
        rand::fill(&mut random);
        let dummy_hash = hash_with(&argon2, &hex::encode(random))?;
        let current_prefix =
            format!("$argon2id$v=19$m={},t={},p={}$", cost.memory_kib, cost.iterations, cost.parallelism);
        Ok(Self {
            inner: Arc::new(Inner {
                argon2,
                permits: Semaphore::new(concurrency.max(1)),
                dummy_hash,
                current_prefix,
            }),
        })
    }

    /// Argon2id PHC string of `password`.
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.clone();
        self.run(move |inner| hash_with(&inner.argon2, password.expose())).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, burns the same time and
    /// answers false.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.clone();
        let stored = stored.map(str::to_string);
        self.run(move |inner| {
            let known = stored.is_some();
            let hash = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let ok = inner.argon2.verify_password(password.expose().as_bytes(), hash).is_ok();
            known && ok
        })
        .await
    }

    /// True when `stored` was made with other parameters than the configured ones.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        !stored.starts_with(&self.inner.current_prefix)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.inner.permits.acquire().await.map_err(|_| HashError::Task)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner)).await.map_err(|_| HashError::Task)
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String, HashError> {
    argon2
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_with_owasp_parameters_and_verify() {
        let h = Hasher::new(Argon2Cost::default(), 2).unwrap();
        let pw = Secret::new("correct horse");
        let hash = h.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(h.verify(&pw, Some(&hash)).await.unwrap());
        assert!(!h.verify(&Secret::new("wrong horse"), Some(&hash)).await.unwrap());
        assert!(!h.verify(&pw, None).await.unwrap());
        assert!(!h.needs_rehash(&hash));
        assert!(h.needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$abc$def"));
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ() {
        let h = Hasher::new(Argon2Cost::default(), 1).unwrap();
        let pw = Secret::new("same password");
        assert_ne!(h.hash(&pw).await.unwrap(), h.hash(&pw).await.unwrap());
    }
}
