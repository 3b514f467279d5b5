//! Django's validators applied to a replacement password.

use crate::crypto::passwords::{validate_password, UserAttributes};
use crate::domain::{FieldErrors, Secret};
use crate::store::UserRow;

/// Django's validators on a replacement password, their messages under `new_password`.
pub fn check_new_password(password: &Secret, user: &UserRow) -> Result<(), FieldErrors> {
    let attrs = UserAttributes { username: &user.username, email: &user.email };
    let mut errors = FieldErrors::default();
    errors.extend("new_password", validate_password(password.expose(), &attrs));
    errors.into_result()
}
