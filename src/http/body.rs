//! Request bodies, read the way DRF reads them (API.md "General rules"). A body is a
//! struct that derives `ToSchema` (what `/api/schema/` shows) and implements `ReadBody`
//! (how its fields are read, with DRF's messages): one declaration serves both, and a
//! test checks that the fields the schema calls required are the ones reported missing.
//! Handlers take `Body<T>` and see only valid input; every field error of a body is
//! reported at once, as DRF does.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::app::AppState;
use crate::domain::{FieldErrors, BLANK, NOT_A_STRING, NULL, NULL_CHARACTERS, REQUIRED};

/// A JSON object body: 415 for another content type, 413 past the size limit, 400 for
/// bad JSON or a body that is not an object. An empty body is an empty object, so
/// missing fields are reported.
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let limit = app.config.max_body_bytes;
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared_len.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body =
            axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| ApiError::PayloadTooLarge)?;
        if body.is_empty() {
            return Ok(JsonObject(Map::new()));
        }
        let content_type = content_type.unwrap_or_default();
        if !is_json(&content_type) {
            return Err(ApiError::UnsupportedMediaType(content_type));
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::JsonParse(e.to_string()))?;
        match value {
            Value::Object(map) => Ok(JsonObject(map)),
            other => Err(ApiError::Fields(FieldErrors::one(
                "non_field_errors",
                format!("Invalid data. Expected a dictionary, but got {}.", python_type(&other)),
            ))),
        }
    }
}

fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The Python type name DRF puts in its messages.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A request body type: how its fields are read. Errors go into the reader; the value
/// returned is used only when there were none.
pub trait ReadBody: Sized {
    fn read(f: &mut FieldReader<'_>) -> Self;
}

/// A body read and checked: the handler's argument.
pub struct Body<T>(pub T);

impl<T: ReadBody> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let JsonObject(object) = JsonObject::from_request(req, app).await?;
        let mut f = FieldReader::new(&object);
        let body = T::read(&mut f);
        f.errors.into_result().map_err(ApiError::Fields)?;
        Ok(Body(body))
    }
}

/// Whether a string field keeps its spaces (DRF's `trim_whitespace`, off for passwords).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Spaces {
    Trim,
    Keep,
}

/// Reads fields from a request object the way DRF serializers do, recording errors.
/// Unknown fields are ignored, as DRF does.
pub struct FieldReader<'a> {
    object: &'a Map<String, Value>,
    pub errors: FieldErrors,
}

impl<'a> FieldReader<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self { object, errors: FieldErrors::default() }
    }

    /// A required `CharField`.
    pub fn required(&mut self, name: &str, spaces: Spaces, max_chars: usize) -> String {
        match self.object.get(name) {
            None => {
                self.errors.add(name, REQUIRED);
                String::new()
            }
            Some(v) => self.string(name, v, spaces, max_chars, false).unwrap_or_default(),
        }
    }

    /// An optional `CharField(allow_blank=True)`: `None` when absent.
    pub fn optional(&mut self, name: &str, spaces: Spaces, max_chars: usize) -> Option<String> {
        let v = self.object.get(name)?;
        self.string(name, v, spaces, max_chars, true)
    }

    fn string(
        &mut self,
        name: &str,
        v: &Value,
        spaces: Spaces,
        max_chars: usize,
        allow_blank: bool,
    ) -> Option<String> {
        // DRF's CharField takes numbers as their text and refuses booleans and containers.
        let raw = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => {
                self.errors.add(name, NULL);
                return None;
            }
            _ => {
                self.errors.add(name, NOT_A_STRING);
                return None;
            }
        };
        let s = if spaces == Spaces::Trim { raw.trim().to_string() } else { raw };
        if s.contains('\0') {
            self.errors.add(name, NULL_CHARACTERS);
            return None;
        }
        if s.is_empty() && !allow_blank {
            self.errors.add(name, BLANK);
            return None;
        }
        if s.chars().count() > max_chars {
            self.errors.add(name, format!("Ensure this field has no more than {max_chars} characters."));
            return None;
        }
        Some(s)
    }

    /// A `ListField(child=CharField())`: `None` when absent.
    pub fn optional_list(&mut self, name: &str, max_items: usize, max_chars: usize) -> Option<Vec<String>> {
        let v = self.object.get(name)?;
        let Value::Array(items) = v else {
            let kind = match v {
                Value::Number(_) => "int",
                Value::Object(_) => "dict",
                other => python_type(other),
            };
            self.errors.add(name, format!("Expected a list of items but got type \"{kind}\"."));
            return None;
        };
        if items.len() > max_items {
            self.errors.add(name, format!("Ensure this field has no more than {max_items} elements."));
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) if s.chars().count() <= max_chars && !s.contains('\0') => {
                    out.push(s.clone())
                }
                Value::String(_) => {
                    self.errors
                        .add(name, format!("Ensure each item has no more than {max_chars} characters."));
                    return None;
                }
                _ => {
                    self.errors.add(name, NOT_A_STRING);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A required list.
    pub fn required_list(&mut self, name: &str, max_items: usize, max_chars: usize) -> Vec<String> {
        let list = self.optional_list(name, max_items, max_chars);
        if list.is_none() && !self.errors.has(name) {
            self.errors.add(name, REQUIRED);
        }
        list.unwrap_or_default()
    }

    /// A required `IntegerField(allow_null=True)`: `None` when null (or missing, which is
    /// recorded as an error). DRF takes integral numbers and their text.
    pub fn required_nullable_integer(&mut self, name: &str) -> Option<i64> {
        let parsed = match self.object.get(name) {
            None => {
                self.errors.add(name, REQUIRED);
                return None;
            }
            Some(Value::Null) => return None,
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64)),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        if parsed.is_none() {
            self.errors.add(name, "A valid integer is required.");
        }
        parsed
    }

    /// An optional `BooleanField`, with DRF's accepted spellings.
    pub fn optional_bool(&mut self, name: &str) -> Option<bool> {
        let v = self.object.get(name)?;
        let parsed = match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
                "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.errors.add(name, "Must be a valid boolean.");
        }
        parsed
    }

    /// A JSON object (a passkey's answer): `None` when absent or null; anything but an
    /// object is `not_object`.
    pub fn optional_object(&mut self, name: &str, not_object: &str) -> Option<Value> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => {
                self.errors.add(name, not_object);
                None
            }
        }
    }

    /// A required JSON object.
    pub fn required_object(&mut self, name: &str, not_object: &str) -> Value {
        let v = self.optional_object(name, not_object);
        if v.is_none() && !self.errors.has(name) {
            self.errors.add(name, REQUIRED);
        }
        v.unwrap_or(Value::Null)
    }

    /// Whether the body holds a JSON object under `name` (which way a body goes).
    pub fn has_object(&self, name: &str) -> bool {
        matches!(self.object.get(name), Some(Value::Object(_)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> (String, Option<String>, FieldErrors) {
        let obj = v.as_object().unwrap().clone();
        let mut r = FieldReader::new(&obj);
        let a = r.required("a", Spaces::Trim, 5);
        let b = r.optional("b", Spaces::Trim, 5);
        (a, b, r.errors)
    }

    #[test]
    fn drf_messages() {
        let cases = [
            (json!({}), Some(REQUIRED)),
            (json!({"a": ""}), Some(BLANK)),
            (json!({"a": "  "}), Some(BLANK)),
            (json!({"a": null}), Some(NULL)),
            (json!({"a": true}), Some(NOT_A_STRING)),
            (json!({"a": [1]}), Some(NOT_A_STRING)),
            (json!({"a": {"x": 1}}), Some(NOT_A_STRING)),
            (json!({"a": "x\u{0}y"}), Some(NULL_CHARACTERS)),
            (json!({"a": "toolong"}), Some("Ensure this field has no more than 5 characters.")),
            (json!({"a": 12}), None),
            (json!({"a": " ok "}), None),
        ];
        for (input, want) in cases {
            let (_, _, errors) = read(input.clone());
            let got = errors.0.get("a").map(|m| m[0].as_str());
            assert_eq!(got, want, "{input}");
        }
        let (a, b, _) = read(json!({"a": " ok ", "b": "", "ignored": 1}));
        assert_eq!((a.as_str(), b.as_deref()), ("ok", Some("")));
    }
}
