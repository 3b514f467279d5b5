//! Users: accounts, their passwords, the admin list, the Django import.

use std::collections::HashMap;

use super::audit::insert_audit;
use super::revocations::revoke_user_tokens;
use super::roles::same_set;
use super::user_search::Search;
use super::Filters;
use crate::store::db::{sql, Backend, Conn};
use crate::store::{
    AuditEvent, AuditMeta, ImportOutcome, ImportedUser, NewUser, Page, Store, StoreError, Timestamp,
    UserChanges, UserFilter, UserOrdering, UserRow, UserWithRoles, CHANGED_MEANWHILE, LAST_SUPERUSER,
};

/// Whether a user (the row `users` of the query) has a second factor.
macro_rules! has_2fa {
    () => {
        "(EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = users.id AND t.confirmed_at IS NOT NULL) \
         OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = users.id))"
    };
}

/// A user's columns, with whether they have a second factor.
macro_rules! user_columns {
    () => {
        concat!(
            "id, username, email, password_hash, is_active, is_superuser, date_joined, last_login, \
             password_changed_at, email_verified, ",
            has_2fa!(),
            " AS has_2fa"
        )
    };
}

const USER_COLUMNS: &str = user_columns!();

/// What the administrators' list filters on: a search (part of the username key or of
/// the email), `is_active`, `is_superuser`, a role, a second factor, `email_verified`;
/// only the filters that are set are in the statement.
fn list_filters<'q>(backend: Backend, filter: &'q UserFilter, search: &'q Search) -> Filters<'q> {
    let mut w = Filters::default();
    if !filter.search.is_empty() {
        // A trigram index names the candidates, the LIKE keeps only exact matches. SQLite:
        // FTS5 (from three characters on). PostgreSQL: one index of both columns joined by
        // a character neither holds (migration 0021), whose expression this must repeat.
        match backend {
            Backend::Sqlite if filter.search.chars().count() >= 3 => w.and(
                "users.id IN (SELECT m.user_id FROM user_search s JOIN user_search_ids m ON m.n = s.rowid \
                   WHERE user_search MATCH ?)",
                [search.phrase.as_str().into()],
            ),
            Backend::Postgres => w.and(
                "(username_key || E'\\x1f' || lower(email)) LIKE ? ESCAPE '\\'",
                [search.candidates.as_str().into()],
            ),
            Backend::Sqlite => {}
        }
        w.and(
            "(username_key LIKE ? ESCAPE '\\' OR lower(email) LIKE ? ESCAPE '\\')",
            [search.pattern.as_str().into(), search.pattern.as_str().into()],
        );
    }
    if let Some(active) = filter.is_active {
        w.and("is_active = ?", [active.into()]);
    }
    if let Some(superuser) = filter.is_superuser {
        w.and("is_superuser = ?", [superuser.into()]);
    }
    if let Some(role) = filter.role.as_deref() {
        w.and(
            "EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = users.id AND ur.role = ?)",
            [role.into()],
        );
    }
    if let Some(has_2fa) = filter.has_2fa {
        w.and(concat!(has_2fa!(), " = ?"), [has_2fa.into()]);
    }
    if let Some(verified) = filter.email_verified {
        w.and("email_verified = ?", [verified.into()]);
    }
    w
}

/// The list's filters, its count, and a page of it (then `LIMIT`, `OFFSET`).
pub(super) fn list_statements<'q>(
    backend: Backend,
    filter: &'q UserFilter,
    search: &'q Search,
) -> (Filters<'q>, String, String) {
    let f = list_filters(backend, filter, search);
    let count = format!("SELECT COUNT(*) FROM users {}", f.sql());
    let n = f.next();
    let page = format!(
        "SELECT {USER_COLUMNS} FROM users {} ORDER BY {} LIMIT ${n} OFFSET ${}",
        f.sql(),
        order_by(filter.ordering),
        n + 1
    );
    (f, count, page)
}

/// The list's `count` when its page tells it: a page that is not full and not past the
/// end holds the last match. A search that finds a few users (the usual one) then costs
/// one statement, not a second pass over the same index to count them.
fn count_from_page(offset: i64, limit: i64, rows: usize) -> Option<i64> {
    let rows = rows as i64;
    (rows < limit && (rows > 0 || offset == 0)).then_some(offset + rows)
}

fn order_by(ordering: UserOrdering) -> &'static str {
    match ordering {
        UserOrdering::Username => "username_key",
        UserOrdering::UsernameDesc => "username_key DESC",
        UserOrdering::Email => "lower(email), username_key",
        UserOrdering::EmailDesc => "lower(email) DESC, username_key",
        UserOrdering::DateJoined => "date_joined, username_key",
        UserOrdering::DateJoinedDesc => "date_joined DESC, username_key",
        // Never signed in: last, either way.
        UserOrdering::LastLogin => "(last_login IS NULL), last_login, username_key",
        UserOrdering::LastLoginDesc => "(last_login IS NULL), last_login DESC, username_key",
    }
}

/// A user by username key ($1), as a login reads them.
pub(super) const USER_BY_KEY: &str =
    concat!("SELECT ", user_columns!(), " FROM users WHERE username_key = $1");

/// A new user's row: no second factor yet.
const NEW_USER_COLUMNS: &str = "id, username, email, password_hash, is_active, is_superuser, date_joined, \
     last_login, password_changed_at, email_verified, FALSE AS has_2fa";

pub(super) async fn roles_and_permissions(
    c: &mut Conn<'_>,
    user_id: &str,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let roles =
        c.scalars(sql("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role").bind(user_id)).await?;
    let permissions = c
        .scalars(
            sql("SELECT DISTINCT rp.permission FROM user_roles ur \
                 JOIN role_permissions rp ON rp.role = ur.role \
                 WHERE ur.user_id = $1 ORDER BY rp.permission")
            .bind(user_id),
        )
        .await?;
    Ok((roles, permissions))
}

pub(super) async fn user_with_roles(c: &mut Conn<'_>, id: &str) -> Result<Option<UserWithRoles>, StoreError> {
    let q = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let Some(user) = c.optional::<UserRow>(sql(&q).bind(id)).await? else { return Ok(None) };
    let (roles, permissions) = roles_and_permissions(c, id).await?;
    Ok(Some(UserWithRoles { user, roles, permissions }))
}

/// Users with their roles and permissions, by id, read in three statements however many
/// (a rotation batch's users). Missing ids are left out.
pub(super) async fn users_with_roles(
    c: &mut Conn<'_>,
    ids: &[&str],
) -> Result<HashMap<String, UserWithRoles>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let marks = marks.join(", ");
    let users_sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id IN ({marks})");
    // Ordered as `roles_and_permissions` orders them, by the database.
    let roles_sql = format!("SELECT user_id, role FROM user_roles WHERE user_id IN ({marks}) ORDER BY role");
    let permissions_sql = format!(
        "SELECT DISTINCT ur.user_id, rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role \
         WHERE ur.user_id IN ({marks}) ORDER BY rp.permission"
    );
    let bound = |text| ids.iter().fold(sql(text), |q, id| q.bind(*id));
    let users: Vec<UserRow> = c.all(bound(&users_sql)).await?;
    let roles: Vec<(String, String)> = c.all(bound(&roles_sql)).await?;
    let permissions: Vec<(String, String)> = c.all(bound(&permissions_sql)).await?;
    let mut out: HashMap<String, UserWithRoles> = users
        .into_iter()
        .map(|user| (user.id.clone(), UserWithRoles { user, roles: Vec::new(), permissions: Vec::new() }))
        .collect();
    for (id, role) in roles {
        if let Some(u) = out.get_mut(&id) {
            u.roles.push(role);
        }
    }
    for (id, permission) in permissions {
        if let Some(u) = out.get_mut(&id) {
            u.permissions.push(permission);
        }
    }
    Ok(out)
}

/// Revokes every live session of the user, and in the revocation feed every access token
/// of theirs issued before `now` (deactivation, a reset); how many sessions.
pub(super) async fn revoke_sessions_of(
    c: &mut Conn<'_>,
    user_id: &str,
    now: Timestamp,
) -> Result<u64, StoreError> {
    revoke_user_tokens(c, user_id, now).await?;
    c.execute(
        sql("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(user_id),
    )
    .await
}

impl Store {
    /// Fails with `Conflict` when the username key is taken. Audited as `register`.
    pub async fn create_user(&self, u: NewUser, audit: &AuditMeta) -> Result<UserRow, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!(
            "INSERT INTO users (id, username, username_key, email, password_hash, is_active, \
             is_superuser, date_joined, last_login, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, NULL, $7) RETURNING {NEW_USER_COLUMNS}"
        );
        let q = sql(&q).bind(&u.id).bind(&u.username).bind(&u.username_key).bind(&u.email);
        let row: UserRow = c.one(q.bind(&u.password_hash).bind(u.is_superuser).bind(u.now)).await?;
        let detail = serde_json::json!({ "is_superuser": u.is_superuser });
        insert_audit(&mut c, AuditEvent::Register, Some(&row.id), &detail, u.now, audit).await?;
        if !u.roles.names.is_empty() {
            for role in &u.roles.names {
                let q =
                    sql("INSERT INTO user_roles (user_id, role) SELECT $1, name FROM roles WHERE name = $2");
                c.execute(q.bind(&row.id).bind(role)).await?;
            }
            let (roles, permissions) = roles_and_permissions(&mut c, &row.id).await?;
            if !same_set(&roles, &u.roles.names) || !same_set(&permissions, &u.roles.permissions) {
                return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
            }
            let detail = serde_json::json!({ "before": [], "after": roles });
            insert_audit(&mut c, AuditEvent::RolesAssigned, Some(&row.id), &detail, u.now, audit).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserWithRoles>, StoreError> {
        user_with_roles(&mut self.read().await?.conn(), id).await
    }

    pub async fn user_by_username_key(&self, key: &str) -> Result<Option<UserRow>, StoreError> {
        self.read().await?.conn().optional(sql(USER_BY_KEY).bind(key)).await
    }

    /// Active users with this email address (case-insensitive; emails are not unique).
    pub async fn active_users_by_email(&self, email: &str) -> Result<Vec<UserRow>, StoreError> {
        let q = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = $1 AND email <> '' AND is_active = TRUE"
        );
        let email = email.to_lowercase();
        self.read().await?.conn().all(sql(&q).bind(&email)).await
    }

    /// Applies `changes`; deactivation revokes every session at once. `None` when there
    /// is no such user; `Conflict { LAST_SUPERUSER }` when it would deactivate the last
    /// active superuser. Audited as `user_updated`.
    pub async fn update_user(
        &self,
        id: &str,
        changes: &UserChanges,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<UserWithRoles>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let mut detail = serde_json::Map::new();
        if let Some(email) = &changes.email {
            // A new address is unverified; setting the same one again keeps its state.
            let q = sql(
                "UPDATE users SET email_verified = CASE WHEN email = $1 THEN email_verified ELSE FALSE END, \
                         email = $1 WHERE id = $2",
            );
            if c.execute(q.bind(email).bind(id)).await? == 0 {
                return Ok(None);
            }
            detail.insert("email".into(), serde_json::Value::String(email.clone()));
        }
        if changes.is_active == Some(false) {
            // SECURITY: decided inside the write transaction, with the active superusers
            // locked (PostgreSQL) or the database locked (SQLite), so two deactivations
            // at once cannot leave none.
            let q = format!(
                "SELECT id FROM users WHERE is_superuser = TRUE AND is_active = TRUE{}",
                c.backend().for_update()
            );
            let supers: Vec<String> = c.scalars(sql(&q)).await?;
            if supers.len() <= 1 && supers.iter().any(|s| s == id) {
                return Err(StoreError::Conflict { constraint: LAST_SUPERUSER.into() });
            }
        }
        if let Some(active) = changes.is_active {
            if c.execute(sql("UPDATE users SET is_active = $1 WHERE id = $2").bind(active).bind(id)).await?
                == 0
            {
                return Ok(None);
            }
            if !active {
                let revoked = revoke_sessions_of(&mut c, id, now).await?;
                detail.insert("sessions_revoked".into(), revoked.into());
            }
            detail.insert("is_active".into(), active.into());
        }
        let Some(user) = user_with_roles(&mut c, id).await? else { return Ok(None) };
        if !detail.is_empty() {
            let detail = serde_json::Value::Object(detail);
            insert_audit(&mut c, AuditEvent::UserUpdated, Some(id), &detail, now, audit).await?;
        }
        tx.commit().await?;
        Ok(Some(user))
    }

    /// Sets the hash and revokes every session of the user but `keep_session`.
    /// Audited as `password_changed`.
    pub async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3");
        c.execute(q.bind(password_hash).bind(now).bind(id)).await?;
        // Access tokens from before the change stop here (`iat` before the change), the
        // kept session's too: the revocation feed says the same to other services.
        revoke_user_tokens(&mut c, id, now).await?;
        let q = sql("UPDATE sessions SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3");
        let revoked = c.execute(q.bind(now).bind(id).bind(keep_session)).await?;
        let detail = serde_json::json!({ "sessions_revoked": revoked });
        insert_audit(&mut c, AuditEvent::PasswordChanged, Some(id), &detail, now, audit).await?;
        tx.commit().await
    }

    /// Replaces a hash whose parameters are outdated, unless the password changed meanwhile.
    pub async fn upgrade_password_hash(
        &self,
        id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        let q = sql("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3");
        self.read().await?.conn().execute(q.bind(new_hash).bind(id).bind(old_hash)).await?;
        Ok(())
    }

    /// Deletes a user and, by cascade, their sessions and tokens; the revocation feed tells
    /// other services that every token of theirs issued before `now` is revoked.
    pub async fn delete_user(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        revoke_user_tokens(&mut c, id, now).await?;
        let deleted = c.execute(sql("DELETE FROM users WHERE id = $1").bind(id)).await? > 0;
        if deleted {
            tx.commit().await?;
        }
        Ok(deleted)
    }

    /// Creates the user, or updates the one an earlier import of the same record made
    /// (email, flags, dates; never the password, which may have changed here since).
    /// Adds the roles. Audited as `register` or `user_updated`.
    pub async fn import_user(
        &self,
        u: &ImportedUser,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<ImportOutcome, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("SELECT id, imported_from FROM users WHERE username_key = $1").bind(&u.username_key);
        let existing: Option<(String, Option<String>)> = c.optional(q).await?;
        // SECURITY: an account this import did not make (registered here, perhaps by
        // someone who guessed the name) is never given the record's flags or roles.
        if let Some((_, from)) = &existing {
            if from.as_deref() != Some(u.source.as_str()) {
                return Ok(ImportOutcome::TakenHere);
            }
        }
        let created = existing.is_none();
        let id = match existing.map(|(id, _)| id) {
            Some(id) => {
                let q =
                    sql("UPDATE users SET email = $1, is_active = $2, is_superuser = $3, date_joined = $4 \
                             WHERE id = $5");
                c.execute(
                    q.bind(&u.email).bind(u.is_active).bind(u.is_superuser).bind(u.date_joined).bind(&id),
                )
                .await?;
                // A record deactivated since the last import: its sessions end, and the
                // revocation feed tells other services, as a deactivation here does.
                if !u.is_active {
                    revoke_sessions_of(&mut c, &id, now).await?;
                }
                id
            }
            None => {
                let q =
                    sql("INSERT INTO users (id, username, username_key, email, password_hash, is_active, \
                             is_superuser, date_joined, last_login, password_changed_at, imported_from) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10)")
                    .bind(&u.id)
                    .bind(&u.username)
                    .bind(&u.username_key)
                    .bind(&u.email)
                    .bind(&u.password_hash);
                let q = q.bind(u.is_active).bind(u.is_superuser).bind(u.date_joined).bind(u.last_login);
                c.execute(q.bind(&u.source)).await?;
                u.id.clone()
            }
        };
        for role in &u.roles {
            let q = sql("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING");
            c.execute(q.bind(&id).bind(role)).await?;
        }
        let event = if created { AuditEvent::Register } else { AuditEvent::UserUpdated };
        let detail = serde_json::json!({ "imported_from": "django" });
        insert_audit(&mut c, event, Some(&id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(if created { ImportOutcome::Created } else { ImportOutcome::Updated })
    }

    /// The users `filter` selects, in its order, a page at a time.
    pub async fn list_users(
        &self,
        filter: &UserFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<UserWithRoles>, StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let common = if filter.search.is_empty() {
            Default::default()
        } else {
            self.common_trigrams.get(&mut c).await
        };
        let search = Search::new(&filter.search, &common);
        let (f, count_sql, page_sql) = list_statements(c.backend(), filter, &search);
        let users: Vec<UserRow> = c.all(f.bind(sql(&page_sql)).bind(limit).bind(offset)).await?;
        let count = match count_from_page(offset, limit, users.len()) {
            Some(count) => count,
            None => c.scalar(f.bind(sql(&count_sql))).await?,
        };
        let mut rows = Vec::with_capacity(users.len());
        for user in users {
            let (roles, permissions) = roles_and_permissions(&mut c, &user.id).await?;
            rows.push(UserWithRoles { user, roles, permissions });
        }
        Ok(Page { count, rows })
    }

    pub async fn count_active_superusers(&self) -> Result<i64, StoreError> {
        self.read()
            .await?
            .conn()
            .scalar(sql("SELECT COUNT(*) FROM users WHERE is_superuser AND is_active"))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::count_from_page;

    #[test]
    fn a_page_tells_the_count_only_when_it_holds_the_last_match() {
        // Not full: the last match is on it, at offset + rows.
        assert_eq!(count_from_page(0, 50, 3), Some(3));
        assert_eq!(count_from_page(100, 50, 7), Some(107));
        // Nothing from the start: nothing at all.
        assert_eq!(count_from_page(0, 50, 0), Some(0));
        // Full: more may follow. Past the end: how far is unknown.
        assert_eq!(count_from_page(0, 50, 50), None);
        assert_eq!(count_from_page(100, 50, 0), None);
    }
}
