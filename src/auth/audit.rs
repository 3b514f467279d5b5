//! Reading the audit log. Events are written by the store, inside the transaction of the
//! change they record, so the log cannot disagree with the data.

use std::sync::Arc;

use crate::domain::{normalize_username, username_key, FieldErrors};
use crate::store::{AuditEvent, AuditFilter, AuditRow, Page, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid filter")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Audit {
    store: Arc<Store>,
}

impl Audit {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    /// Newest first. `user` is an id or a username; `event` one of API.md's event names.
    pub async fn list(
        &self,
        user: Option<&str>,
        event: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<Page<AuditRow>, AuditError> {
        if let Some(e) = event {
            if !AuditEvent::ALL.iter().any(|known| known.as_str() == e) {
                return Err(AuditError::Invalid(FieldErrors::one(
                    "event",
                    format!("Select a valid choice. {e} is not one of the available choices."),
                )));
            }
        }
        let filter = AuditFilter {
            user_id: user.map(str::to_string),
            username_key: user.map(|u| username_key(&normalize_username(u.trim()))),
            event: event.map(str::to_string),
        };
        Ok(self.store.list_audit(&filter, offset, limit).await?)
    }
}
