//! Argon2id on a fixed set of hashing threads.
//!
//! SECURITY and cost: each hash needs `memory_kib` of RAM and ~10 ms of CPU. A fixed pool
//! of `concurrency` threads bounds both, so a login storm queues here instead of starving
//! the async workers or exhausting memory. Each thread owns one Argon2 memory buffer and
//! reuses it for every hash: allocating 19 MiB per hash on the runtime's blocking
//! threads made glibc keep hundreds of MB in per-thread arenas (885 MB measured at 64
//! connections) and page-faulted on every hash.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::{Algorithm, Argon2, Block, Params, PasswordVerifier, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::config::Argon2Cost;
use crate::domain::Secret;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed")]
    Task,
}

/// One hashing thread's state: its own Argon2 instance and memory.
struct Worker {
    argon2: Argon2<'static>,
    /// Allocated at the thread's first hash, then reused: an idle service holds none.
    memory: Vec<Block>,
    blocks: usize,
}

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password with the current parameters: verifying against it
    /// costs what a real verification costs, so unknown usernames take the same time.
    dummy_hash: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$`: hashes without it are re-hashed after a login.
    current_prefix: String,
}

const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

impl Worker {
    fn memory(&mut self) -> &mut Vec<Block> {
        if self.memory.is_empty() {
            self.memory = vec![Block::default(); self.blocks];
        }
        &mut self.memory
    }

    /// A PHC string, computed in this thread's memory.
    fn hash(&mut self, password: &[u8], prefix: &str) -> Result<String, HashError> {
        let mut salt = [0u8; SALT_LEN];
        rand::fill(&mut salt);
        let mut out = [0u8; OUTPUT_LEN];
        let argon2 = self.argon2.clone();
        argon2
            .hash_password_into_with_memory(password, &salt, &mut out, self.memory())
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        Ok(format!("{prefix}{}${}", STANDARD_NO_PAD.encode(salt), STANDARD_NO_PAD.encode(out)))
    }

    /// Checks a PHC string. Ours (current parameters) reuse this thread's memory; others
    /// (older parameters, imported hashes) take the allocating path.
    fn verify(&mut self, password: &[u8], phc: &str, prefix: &str) -> bool {
        if let Some(rest) = phc.strip_prefix(prefix) {
            let Some((salt, expected)) = rest.split_once('$') else { return false };
            let (Ok(salt), Ok(expected)) = (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(expected))
            else {
                return false;
            };
            if expected.len() != OUTPUT_LEN {
                return self.argon2.verify_password(password, phc).is_ok();
            }
            let mut out = [0u8; OUTPUT_LEN];
            let argon2 = self.argon2.clone();
            return argon2.hash_password_into_with_memory(password, &salt, &mut out, self.memory()).is_ok()
                && bool::from(out.ct_eq(&expected));
        }
        self.argon2.verify_password(password, phc).is_ok()
    }
}

/// An Argon2 PHC string whose cost is within the caps for imported hashes.
fn argon2_within_caps(phc: &str) -> bool {
    super::legacy::cost_problem(&format!("argon2{phc}")).is_none()
}

impl Hasher {
    pub fn new(cost: Argon2Cost, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(OUTPUT_LEN))
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let current_prefix =
            format!("$argon2id$v=19$m={},t={},p={}$", cost.memory_kib, cost.iterations, cost.parallelism);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..concurrency.max(1) {
            let queue = Arc::clone(&queue);
            let mut worker = Worker {
                argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
                memory: Vec::new(),
                blocks: params.block_count(),
            };
            std::thread::Builder::new()
                .name(format!("authenticon-hash-{i}"))
                .spawn(move || loop {
                    // The lock is held only to take a job, never while hashing.
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&mut worker),
                        Err(_) => return, // the hasher is gone
                    }
                })
                .map_err(|e| HashError::Argon2(format!("cannot start a hashing thread: {e}")))?;
        }
        let mut random = [0u8; 24];
        rand::fill(&mut random);
        let mut probe = Worker {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            memory: Vec::new(),
            blocks: params.block_count(),
        };
        let dummy_hash = probe.hash(hex::encode(random).as_bytes(), &current_prefix)?;
        Ok(Self { inner: Arc::new(Inner { jobs, dummy_hash, current_prefix }) })
    }

    /// Argon2id PHC string of `password`.
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.clone();
        let prefix = self.inner.current_prefix.clone();
        self.run(move |w| w.hash(password.expose().as_bytes(), &prefix)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, burns the same time and
    /// answers false.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.clone();
        let stored = stored.map(str::to_string);
        let prefix = self.inner.current_prefix.clone();
        let dummy = self.inner.dummy_hash.clone();
        self.run(move |w| {
            let pw = password.expose().as_bytes();
            match stored.as_deref() {
                None => {
                    let _ = w.verify(pw, &dummy, &prefix);
                    false
                }
                Some(h) if h.starts_with(&prefix) => w.verify(pw, h, &prefix),
                // SECURITY: anything else (older parameters, an imported Django hash, an
                // unusable `!` password) may be cheaper than ours, and a faster "no"
                // would tell a guesser which accounts those are: the dummy check runs
                // too, so no answer comes sooner than a wrong password's.
                Some(h) => {
                    let _ = w.verify(pw, &dummy, &prefix);
                    if h.starts_with("$argon2") {
                        argon2_within_caps(h) && w.verify(pw, h, &prefix)
                    } else {
                        // Imported from Django: checked as Django does, then upgraded.
                        match super::legacy::django_argon2_to_phc(h) {
                            Some(phc) => argon2_within_caps(&phc) && w.verify(pw, &phc, &prefix),
                            None => super::legacy::verify(password.expose(), h),
                        }
                    }
                }
            }
        })
        .await
    }

    /// True when `stored` was made with other parameters than the configured ones.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        !stored.starts_with(&self.inner.current_prefix)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Worker) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        // The queue depth shows whether logins wait for a hashing thread.
        metrics::gauge!("authenticon_password_hash_queue").increment(1.0);
        let job: Job = Box::new(move |worker| {
            metrics::gauge!("authenticon_password_hash_queue").decrement(1.0);
            let started = Instant::now();
            let value = work(worker);
            metrics::histogram!("authenticon_password_hash_seconds").record(started.elapsed().as_secs_f64());
            let _ = done.send(value);
        });
        self.inner.jobs.send(job).map_err(|_| HashError::Task)?;
        result.await.map_err(|_| HashError::Task)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use argon2::PasswordHasher;

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
        // What the reused-memory path writes, the reference implementation accepts.
        assert!(Argon2::default().verify_password(b"correct horse", hash.as_str()).is_ok());
    }

    #[tokio::test]
    async fn hashes_made_elsewhere_with_other_parameters_still_verify() {
        let h = Hasher::new(Argon2Cost::default(), 1).unwrap();
        let params = Params::new(8192, 3, 2, None).unwrap();
        let other =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(b"old password").unwrap();
        let other = other.to_string();
        assert!(h.verify(&Secret::new("old password"), Some(&other)).await.unwrap());
        assert!(!h.verify(&Secret::new("new password"), Some(&other)).await.unwrap());
        assert!(h.needs_rehash(&other));
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ() {
        let h = Hasher::new(Argon2Cost::default(), 1).unwrap();
        let pw = Secret::new("same password");
        assert_ne!(h.hash(&pw).await.unwrap(), h.hash(&pw).await.unwrap());
    }
}
