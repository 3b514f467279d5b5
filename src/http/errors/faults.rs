//! Where a fault's log line is written: in its request's span, or (on a hot read, which
//! runs without one) by the edge, with the request id.

use axum::response::Response;
use tracing::error;

use super::ApiError;

tokio::task_local! {
    /// Set by the edge while a hot read runs, which it does without a request span (see
    /// `middleware::edge`): a fault there rides on the response, for the edge to log
    /// with the request id. (Whether a span is current cannot tell: a log filter above
    /// `info` disables every request span.)
    pub static HOT_READ: ();
}

/// A fault a response was made of, to be logged: where it happened, in the request's span
/// (which carries the request id), or on a hot read by the edge, with the id.
#[derive(Debug, Clone)]
pub struct UnloggedFault {
    unavailable: bool,
    text: String,
}

impl UnloggedFault {
    /// The fault `e` is, if it is one (a 500 or a 503).
    pub(super) fn of(e: &ApiError) -> Option<Self> {
        match e {
            ApiError::Internal(fault) => Some(Self { unavailable: false, text: format!("{fault:#}") }),
            ApiError::Unavailable(reason) => Some(Self { unavailable: true, text: reason.clone() }),
            _ => None,
        }
    }

    /// Logged now, or on a hot read left on `response` for the edge.
    pub(super) fn log_or_attach(self, response: &mut Response) {
        if HOT_READ.try_with(|_| ()).is_ok() {
            response.extensions_mut().insert(self);
        } else {
            self.log(None);
        }
    }

    pub fn log(&self, request_id: Option<&str>) {
        if self.unavailable {
            error!(request_id, reason = self.text, "dependency unavailable");
        } else {
            error!(request_id, error = self.text, "internal error");
        }
    }
}
