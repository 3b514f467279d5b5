//! Any request body: JSON parsing, DRF-style field reading and the username and password
//! validators answer with values or field errors, never a panic.
#![no_main]

use authenticon::accounts::{normalize_username, username_key};
use authenticon::fields::FieldReader;
use authenticon::passwords::{validate_password, UserAttributes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut reader = FieldReader::new(&map);
    let username = reader.required("username", true, 150);
    let password = reader.required("password", false, 4096);
    let email = reader.optional("email", 254).unwrap_or_default();
    let _ = reader.optional_list("permissions", 200, 100);
    let _ = reader.optional_bool("is_active");
    let _ = reader.finish();
    let normalized = normalize_username(&username);
    let _ = username_key(&normalized);
    let _ = validate_password(&password, &UserAttributes { username: &normalized, email: &email });
});
