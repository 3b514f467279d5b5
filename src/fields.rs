//! DRF-style field validation: reading typed fields out of a JSON object with DRF's
//! messages, and collecting per-field errors (`{"field": ["message", ...]}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Per-field error messages, in DRF's shape; `non_field_errors` for object-level ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.add(field, message);
        e
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_string()).or_default().push(message.into());
    }

    pub fn extend(&mut self, field: &str, messages: Vec<String>) {
        for m in messages {
            self.add(field, m);
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

pub const REQUIRED: &str = "This field is required.";
pub const BLANK: &str = "This field may not be blank.";
pub const NULL: &str = "This field may not be null.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const NULL_CHARACTERS: &str = "Null characters are not allowed.";

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

    /// A required `CharField`. `trim` follows DRF's `trim_whitespace` (off for passwords).
    pub fn required(&mut self, name: &str, trim: bool, max_chars: usize) -> String {
        match self.object.get(name) {
            None => {
                self.errors.add(name, REQUIRED);
                String::new()
            }
            Some(v) => self.string(name, v, trim, max_chars, false).unwrap_or_default(),
        }
    }

    /// An optional `CharField(allow_blank=True)`: `None` when absent.
    pub fn optional(&mut self, name: &str, max_chars: usize) -> Option<String> {
        let v = self.object.get(name)?;
        self.string(name, v, true, max_chars, true)
    }

    /// An optional field taken as typed (a password: spaces count).
    pub fn optional_untrimmed(&mut self, name: &str, max_chars: usize) -> Option<String> {
        let v = self.object.get(name)?;
        self.string(name, v, false, max_chars, true)
    }

    fn string(
        &mut self,
        name: &str,
        v: &Value,
        trim: bool,
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
        let s = if trim { raw.trim().to_string() } else { raw };
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

    /// An optional `ListField(child=CharField())`.
    pub fn optional_list(&mut self, name: &str, max_items: usize, max_chars: usize) -> Option<Vec<String>> {
        let v = self.object.get(name)?;
        let Value::Array(items) = v else {
            let kind = match v {
                Value::Null => "NoneType",
                Value::Bool(_) => "bool",
                Value::Number(_) => "int",
                Value::String(_) => "str",
                _ => "dict",
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

    pub fn finish(self) -> Result<(), FieldErrors> {
        self.errors.into_result()
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
        let a = r.required("a", true, 5);
        let b = r.optional("b", 5);
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
