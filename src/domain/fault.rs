//! A fault of ours (a sealed value that does not open, a stored state that does not read
//! back, a library that failed): every service error has an `Internal(Fault)` variant,
//! which the HTTP layer answers with a bare 500 and logs with its whole chain. Its text
//! never reaches a client.

use std::error::Error;

#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct Fault {
    /// What was being done, for the log line.
    what: &'static str,
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

impl Fault {
    /// `source` may be an error, or a message for a library whose errors are `Debug` only.
    pub fn new(what: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self { what, source: source.into() }
    }
}

/// An error and each error that caused it, `: `-separated, for a message or a log line
/// (reqwest's and oauth2's own texts only say that a request failed).
pub fn error_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_keeps_its_source_for_the_log() {
        let parse = "x".parse::<i32>().err().map(|e| Fault::new("reading a number", e));
        let fault = parse.unwrap_or_else(|| Fault::new("reading a number", "no error"));
        assert_eq!(fault.to_string(), "reading a number");
        assert_eq!(fault.source().map(|s| s.to_string()).as_deref(), Some("invalid digit found in string"));
    }
}
