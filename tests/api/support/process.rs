//! The real binary, run as a process: one-off commands and `serve`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{on_postgres, SECRET};

/// The real binary, with a clean environment and the given database.
pub fn authenticon(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authenticon"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHENTICON_DATABASE_URL", db_url)
        .stdin(Stdio::null());
    if on_postgres() {
        // Required there: no file beside the database to keep a generated one in.
        cmd.env("AUTHENTICON_SECRET_KEY", SECRET);
    }
    cmd
}

/// A running `authenticon serve` with its log collected.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub log: Arc<Mutex<Vec<String>>>,
    /// The thread reading the log: it ends when the process has closed stderr.
    reader: std::thread::JoinHandle<()>,
}

pub fn serve(db: &str, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = authenticon(db);
    cmd.env("AUTHENTICON_BIND", "127.0.0.1:0").arg("serve").stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn serve");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Arc::clone(&log);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                // Address characters only: in JSON logs the address is followed by a quote.
                let addr: String =
                    rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
                let _ = tx.send(addr);
            }
            sink.lock().unwrap().push(line);
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        let status = child.wait();
        std::thread::sleep(Duration::from_millis(100)); // let the reader drain the pipe
        panic!("server did not report its address ({status:?}):\n{}", log.lock().unwrap().join("\n"));
    };
    Server { child, url: format!("http://{addr}"), log, reader }
}

impl Server {
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        // Every line the process wrote, up to its last (it may flush some as it exits).
        let _ = self.reader.join();
        let log = self.log.lock().unwrap().join("\n");
        (status, log)
    }
}

/// A loopback port nothing listens on (yet).
pub fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
