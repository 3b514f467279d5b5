//! `authenticon import-django FILE`: users and groups from the output of Django's
//! `manage.py dumpdata auth.user auth.group --indent 2`. Groups become roles; users keep
//! their password hashes (verified as Django does at their first login, then re-hashed
//! with Argon2id), `is_superuser`, `is_active`, `date_joined`, `last_login`, and their
//! groups as roles. Running it again updates what changed and creates nothing twice;
//! bad records are reported by line and skipped, the rest go in.

use std::collections::HashMap;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::crypto::passwords::legacy::{cost_problem, is_django_hash, SUPPORTED};
use crate::domain::{
    email_is_valid, normalize_username, username_key, valid_role_name, Clock, MAX_USERNAME_CHARS,
};
use crate::store::{AuditMeta, ImportOutcome, ImportedUser, RoleRow, Store, StoreError, Timestamp};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a Django dumpdata file: {0}")]
    NotDumpdata(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub roles_created: usize,
    /// `(line, reason)` for each record left out.
    pub problems: Vec<(usize, String)>,
}

/// The 1-based line where each top-level element of a JSON array starts.
fn record_lines(text: &str) -> Vec<usize> {
    let (mut lines, mut line, mut depth) = (Vec::new(), 1, 0i32);
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        match c {
            '\n' => line += 1,
            _ if in_string => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            }
            '"' => in_string = true,
            '{' | '[' => {
                if depth == 1 {
                    lines.push(line);
                }
                depth += 1;
            }
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    lines
}

/// A Django group name as a role name (`[a-z0-9_.-]{1,64}`): "Support Team" → "support-team".
pub fn role_name_for_group(group: &str) -> String {
    let mapped: String = group
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    if mapped.is_empty() {
        "group".into()
    } else {
        mapped
    }
}

fn timestamp(v: &Value) -> Option<Timestamp> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// Why a record is skipped: a line of the import's report.
struct Skip(String);

impl From<&str> for Skip {
    fn from(why: &str) -> Self {
        Skip(why.to_string())
    }
}

impl From<String> for Skip {
    fn from(why: String) -> Self {
        Skip(why)
    }
}

/// Reads a user record, or why it cannot be imported.
fn user_record(pk: &Value, fields: &Value, groups: &HashMap<String, String>) -> Result<ImportedUser, Skip> {
    let text = |k: &str| fields.get(k).and_then(Value::as_str);
    let raw = text("username").ok_or("no username")?;
    if pk.is_null() {
        return Err(Skip(format!("user {raw:?}: no pk")));
    }
    let username = normalize_username(raw);
    if username.is_empty()
        || username.chars().count() > MAX_USERNAME_CHARS
        || !username.chars().all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        return Err(Skip(format!(
            "username {raw:?} is not valid here (1–150 letters, digits and @ . + - _)"
        )));
    }
    let password = text("password").ok_or("no password field")?;
    if let Some(problem) = cost_problem(password) {
        return Err(Skip(format!("user {raw:?}: password hash refused: {problem}")));
    }
    if !is_django_hash(password) {
        let algorithm = password.split('$').next().unwrap_or_default();
        return Err(Skip(format!(
            "user {raw:?}: password hasher {algorithm:?} is not supported (supported: {})",
            SUPPORTED.join(", ")
        )));
    }
    let email = text("email").unwrap_or_default().to_string();
    if !email.is_empty() && !email_is_valid(&email) {
        return Err(Skip(format!("user {raw:?}: email {email:?} is not valid")));
    }
    let date_joined = timestamp(fields.get("date_joined").unwrap_or(&Value::Null))
        .ok_or_else(|| format!("user {raw:?}: date_joined is not a date"))?;
    let last_login = match fields.get("last_login") {
        None | Some(Value::Null) => None,
        Some(v) => Some(timestamp(v).ok_or_else(|| format!("user {raw:?}: last_login is not a date"))?),
    };
    let roles = fields
        .get("groups")
        .and_then(Value::as_array)
        .map(|gs| gs.iter().filter_map(|g| groups.get(&g.to_string()).cloned()).collect())
        .unwrap_or_default();
    Ok(ImportedUser {
        id: uuid::Uuid::new_v4().to_string(),
        username_key: username_key(&username),
        username,
        email,
        password_hash: password.to_string(),
        is_active: fields.get("is_active").and_then(Value::as_bool).unwrap_or(true),
        is_superuser: fields.get("is_superuser").and_then(Value::as_bool).unwrap_or(false),
        date_joined,
        last_login,
        roles,
        source: format!("django:{pk}"),
    })
}

/// How an import treats what could grant more than intended.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Map a Django group named like the built-in `admin` role onto it (every built-in
    /// permission). Off by default: a group called "Admin" in Django may mean anything.
    pub admin_group: bool,
    /// Map groups onto roles of the same name that exist here but no import made (they
    /// may hold permissions the group never meant). Off by default.
    pub existing_roles: bool,
}

/// How roles made by an import say so; an import maps groups only onto those (and new
/// ones) unless told otherwise.
const IMPORTED_ROLE: &str = "Imported from Django group";

/// Imports `text`, a dumpdata export. A file that is not one fails whole, before any write.
pub async fn import_django(
    store: &Store,
    clock: &dyn Clock,
    text: &str,
    audit: &AuditMeta,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let records: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| ImportError::NotDumpdata(format!("line {} column {}: {e}", e.line(), e.column())))?;
    let lines = record_lines(text);
    let line_of = |i: usize| lines.get(i).copied().unwrap_or(0);
    let mut report = ImportReport::default();

    // Groups first: users name them by primary key.
    let mut groups = HashMap::new();
    let existing_roles = store.list_roles().await?;
    let existing: Vec<String> = existing_roles.iter().map(|r| r.name.clone()).collect();
    for (i, record) in records.iter().enumerate() {
        if record.get("model").and_then(Value::as_str) != Some("auth.group") {
            continue;
        }
        let (Some(pk), Some(name)) = (record.get("pk"), record["fields"].get("name").and_then(Value::as_str))
        else {
            report.problems.push((line_of(i), "group without pk or name".into()));
            continue;
        };
        let role = role_name_for_group(name);
        if !valid_role_name(&role) {
            report.problems.push((line_of(i), format!("group {name:?} has no usable role name")));
            continue;
        }
        // SECURITY: never grant the built-in admin role's permissions by a name match.
        if role == crate::auth::rbac::ADMIN_ROLE && !options.admin_group {
            report.problems.push((
                line_of(i),
                format!(
                    "group {name:?} would become the built-in \"admin\" role (every administrative \
                     permission); not mapped: pass --admin-group to map it"
                ),
            ));
            continue;
        }
        let foreign = existing_roles.iter().any(|r| {
            r.name == role
                && r.name != crate::auth::rbac::ADMIN_ROLE
                && !r.description.starts_with(IMPORTED_ROLE)
        });
        if foreign && !options.existing_roles {
            report.problems.push((
                line_of(i),
                format!(
                    "group {name:?} would join the existing role {role:?}, which no import made (it may hold \
                     more than the group meant); not mapped: pass --existing-roles to map it"
                ),
            ));
            continue;
        }
        if !existing.contains(&role) && !groups.values().any(|r| r == &role) {
            let new = RoleRow {
                name: role.clone(),
                description: format!("{IMPORTED_ROLE} {name:?}"),
                builtin: false,
                permissions: vec![],
                holders: 0,
            };
            match store.create_role(&new, clock.now(), audit).await {
                Ok(_) => report.roles_created += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        groups.insert(pk.to_string(), role);
    }

    // SECURITY: Django compares usernames exactly, this service after NFKC and case
    // folding: two Django users that are one user here would merge, one taking over the
    // other's account. Neither is imported; the operator renames one first.
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for record in records.iter().filter(|r| r.get("model").and_then(Value::as_str) == Some("auth.user")) {
        if let Some(raw) = record["fields"].get("username").and_then(Value::as_str) {
            by_key.entry(username_key(&normalize_username(raw))).or_default().push(raw.to_string());
        }
    }

    for (i, record) in records.iter().enumerate() {
        match record.get("model").and_then(Value::as_str) {
            Some("auth.group") => continue,
            Some("auth.user") => {}
            other => {
                report.skipped += 1;
                report.problems.push((
                    line_of(i),
                    format!("record of model {other:?} ignored (only auth.user and auth.group)"),
                ));
                continue;
            }
        }
        let raw = record["fields"].get("username").and_then(Value::as_str).unwrap_or_default();
        if let Some(names) = by_key.get(&username_key(&normalize_username(raw))).filter(|n| n.len() > 1) {
            report.skipped += 1;
            report.problems.push((
                line_of(i),
                format!(
                    "user {raw:?}: {} are one user here (usernames match after Unicode NFKC and case folding); rename all but one in Django first",
                    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        }
        match user_record(&record["pk"], &record["fields"], &groups) {
            Ok(user) => match store.import_user(&user, clock.now(), audit).await? {
                ImportOutcome::Created => report.created += 1,
                ImportOutcome::Updated => report.updated += 1,
                ImportOutcome::TakenHere => {
                    report.skipped += 1;
                    report.problems.push((
                        line_of(i),
                        format!(
                            "user {raw:?}: the name is an account here that no import of this record made; left alone (rename one of them)"
                        ),
                    ));
                }
            },
            Err(Skip(reason)) => {
                report.skipped += 1;
                report.problems.push((line_of(i), reason));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_records() {
        let text = "[\n{\n  \"a\": \"{[\"\n},\n{\"b\": [1, {\"c\": 2}]}\n]";
        assert_eq!(record_lines(text), vec![2, 5]);
    }

    #[test]
    fn group_names_become_role_names() {
        assert_eq!(role_name_for_group("Support Team"), "support-team");
        assert_eq!(role_name_for_group("editors"), "editors");
        assert_eq!(role_name_for_group("   "), "group");
    }
}
