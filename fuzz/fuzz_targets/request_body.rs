//! Any request body: JSON parsing, DRF-style field reading and the username and password
//! validators answer with values or field errors, never a panic.
#![no_main]

use authenticon::crypto::passwords::{validate_password, UserAttributes};
use authenticon::domain::{normalize_username, username_key};
use authenticon::http::body::{FieldReader, Spaces};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut reader = FieldReader::new(&map);
    let username = reader.required("username", Spaces::Trim, 150);
    let password = reader.required("password", Spaces::Keep, 4096);
    let email = reader.optional("email", Spaces::Trim, 254).unwrap_or_default();
    let _ = reader.optional_list("permissions", 200, 100);
    let _ = reader.optional_bool("is_active");
    let _ = reader.optional_object("credential", "Not a passkey answer.");
    let _ = reader.errors.into_result();
    let normalized = normalize_username(&username);
    let _ = username_key(&normalized);
    let _ = validate_password(&password, &UserAttributes { username: &normalized, email: &email });
});
