//! A real SMTP server (aiosmtpd, from the project's virtualenv) on loopback; each mail it
//! accepts becomes a JSON file the test reads.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authenticon::domain::Secret;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{spawn_with, str_of, TestApp, PASSWORD};

/// aiosmtpd on a free loopback port; each accepted mail becomes a JSON file.
pub struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A sink on `port`: a mail server coming back where the service expects it.
    pub fn start_on(port: u16) -> Self {
        Self::start_with(&["--port", &port.to_string()])
    }

    /// A sink that refuses mail for `address` for good (550).
    pub fn start_rejecting(address: &str) -> Self {
        Self::start_with(&["--reject", address])
    }

    /// A sink that answers each MAIL FROM only after `seconds`.
    pub fn start_slow(seconds: u32) -> Self {
        Self::start_with(&["--slow", &seconds.to_string()])
    }

    fn start_with(args: &[&str]) -> Self {
        let python = std::env::var("AUTHENTICON_TEST_PYTHON").map(PathBuf::from).unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv").join("bin").join("python")
        });
        assert!(
            python.exists(),
            "{} is missing: the mail tests need aiosmtpd from the project's virtualenv (`make .venv/.installed`)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("SMTP sink said {line:?}"));
        SmtpSink { child, port, dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }

    /// Waits until `n` mails have arrived (mail goes out in the background).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(Instant::now() < deadline, "expected {n} mails, got {}: {mails:?}", mails.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a mail to `to` whose subject holds `subject`; the newest such.
    pub async fn wait_for_mail(&self, to: &str, subject: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mails = self.mails();
            let found = mails.iter().rev().find(|m| {
                m["to"] == serde_json::json!([to])
                    && m["subject"].as_str().is_some_and(|s| s.contains(subject))
            });
            if let Some(mail) = found {
                return mail.clone();
            }
            assert!(Instant::now() < deadline, "no mail to {to} about {subject:?}: {mails:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token of the first link to `page` in a mail's body.
pub fn token_in(mail: &Value, page: &str) -> String {
    let body = str_of(&mail["body"]);
    let marker = format!("/{page}?token=");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {marker} link in {body}")) + marker.len();
    body[start..].split_whitespace().next().unwrap().to_string()
}

pub async fn with_mail(adjust: impl FnOnce(&mut authenticon::Config)) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_with(|c| {
        c.smtp_url = Some(Secret::new(url));
        c.public_url = Some("https://auth.example.com".into());
        adjust(c);
    })
    .await;
    (app, sink)
}

pub async fn register_with_email(app: &TestApp, username: &str, email: &str) -> Value {
    let r = app.post("/register/", json!({"username": username, "password": PASSWORD, "email": email})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

/// Registers with an address and follows the verification link: password-reset mail
/// goes only to verified addresses. The verification is the sink's first mail.
pub async fn register_verified(app: &TestApp, sink: &SmtpSink, username: &str, email: &str) -> Value {
    let user = register_with_email(app, username, email).await;
    let link = token_in(&sink.wait_for(1).await[0], "verify-email");
    let r = app.post("/api/email/verify/", json!({"token": link})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    user
}
