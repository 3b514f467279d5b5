//! The SQL of every store method, written once and expanded for each backend.
//!
//! SQLite and PostgreSQL accept the same statements here: `$N` placeholders (sqlx's
//! SQLite driver binds `$N` by number), `IS DISTINCT FROM`, `RETURNING`, integer
//! timestamps. What differs is passed in: how a write transaction begins (SQLite takes
//! the write lock up front with `BEGIN IMMEDIATE`; PostgreSQL locks rows) and the row
//! lock clause (`FOR UPDATE` on PostgreSQL, nothing on SQLite, whose transaction already
//! holds the database lock). A backend-generic sqlx implementation would need a wall of
//! trait bounds; a macro keeps the SQL in one place with concrete types.

macro_rules! impl_sql_store {
    // `mail_lock`: the plain row lock of a one-table query (" FOR UPDATE" on PostgreSQL).
    ($store:ident, $db:ty, $conn:ty, row_lock = $row_lock:literal, mail_lock = $mail_lock:literal, rotate = $rotate:expr) => {
        const USER_COLUMNS: &str = "id, username, email, password_hash, is_active, is_superuser, \
             date_joined, last_login, password_changed_at, email_verified";

        async fn roles_and_permissions(
            conn: &mut $conn,
            user_id: &str,
        ) -> Result<(Vec<String>, Vec<String>), StoreError> {
            let roles: Vec<String> =
                sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
                    .bind(user_id)
                    .fetch_all(&mut *conn)
                    .await?;
            let permissions: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT rp.permission FROM user_roles ur \
                 JOIN role_permissions rp ON rp.role = ur.role \
                 WHERE ur.user_id = $1 ORDER BY rp.permission",
            )
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
            Ok((roles, permissions))
        }

        async fn user_with_roles(conn: &mut $conn, id: &str) -> Result<Option<UserWithRoles>, StoreError> {
            let user: Option<UserRow> =
                sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(user) = user else { return Ok(None) };
            let (roles, permissions) = roles_and_permissions(conn, id).await?;
            Ok(Some(UserWithRoles { user, roles, permissions }))
        }

        async fn revoke_session(conn: &mut $conn, session_id: &str, now: Timestamp) -> Result<(), StoreError> {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(session_id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn insert_refresh(conn: &mut $conn, session_id: &str, token: &NewRefresh) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&token.jti)
            .bind(session_id)
            .bind(token.issued_at)
            .bind(token.expires_at)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        async fn insert_audit(
            conn: &mut $conn,
            event: AuditEvent,
            user_id: Option<&str>,
            detail: &serde_json::Value,
            now: Timestamp,
            audit: &AuditMeta,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
                 VALUES ($1, $2, $3, (SELECT username FROM users WHERE id = $3), $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(event.as_str())
            .bind(user_id)
            .bind(audit.actor_id.as_deref())
            .bind(&audit.client.ip)
            .bind(&audit.client.user_agent)
            .bind(detail.to_string())
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        #[derive(sqlx::FromRow)]
        struct RoleHead {
            name: String,
            description: String,
            builtin: bool,
        }

        async fn load_role(conn: &mut $conn, name: &str) -> Result<Option<RoleRow>, StoreError> {
            let head: Option<RoleHead> =
                sqlx::query_as("SELECT name, description, builtin FROM roles WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(head) = head else { return Ok(None) };
            let permissions: Vec<String> =
                sqlx::query_scalar("SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission")
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(Some(RoleRow { name: head.name, description: head.description, builtin: head.builtin, permissions }))
        }

        async fn replace_permissions(conn: &mut $conn, role: &str, permissions: &[String]) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM role_permissions WHERE role = $1").bind(role).execute(&mut *conn).await?;
            for p in permissions {
                sqlx::query("INSERT INTO role_permissions (role, permission) VALUES ($1, $2)")
                    .bind(role)
                    .bind(p)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// A refresh token's record joined with its family. `lock` takes the row lock
        /// that serialises rotations of one token across connections and instances.
        async fn token_state(conn: &mut $conn, jti: &str, lock: bool) -> Result<Option<TokenState>, StoreError> {
            let sql = format!(
                "SELECT rt.session_id, rt.used_at, rt.used_ip, rt.used_user_agent, rt.expires_at, s.user_id, s.revoked_at, \
                 s.created_at AS session_created_at, rt.replaced_by \
                 FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.jti = $1{}",
                if lock { $row_lock } else { "" }
            );
            Ok(sqlx::query_as(&sql).bind(jti).fetch_optional(&mut *conn).await?)
        }

        /// Whether two lists hold the same strings, in any order.
        fn same_set(a: &[String], b: &[String]) -> bool {
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            a.sort();
            b.sort();
            a.dedup();
            b.dedup();
            a == b
        }

        const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, name, passkey, created_at, last_used_at";

        /// Recovery codes serve the factors; with none left (no TOTP, no passkey) they go.
        async fn drop_orphan_recovery_codes(conn: &mut $conn, user_id: &str) -> Result<u64, StoreError> {
            Ok(sqlx::query(
                "DELETE FROM recovery_codes WHERE user_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)",
            )
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        }

        async fn put_recovery_codes(conn: &mut $conn, user_id: &str, code_hashes: &[String]) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
            for hash in code_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(hash)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// A mail token that is unspent, unexpired, of `purpose`, and whose verifier
        /// matches (compared in constant time); locked for the transaction when `lock`.
        async fn live_mail_token(
            conn: &mut $conn,
            token: &PresentedMailToken,
            purpose: MailPurpose,
            now: Timestamp,
            lock: bool,
        ) -> Result<Option<MailTokenRow>, StoreError> {
            let sql = format!(
                "SELECT user_id, email, verifier_hash FROM mail_tokens \
                 WHERE id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3{}",
                if lock { $mail_lock } else { "" }
            );
            let row: Option<MailTokenRow> =
                sqlx::query_as(&sql).bind(&token.id).bind(purpose.as_str()).bind(now).fetch_optional(&mut *conn).await?;
            Ok(row.filter(|r| {
                bool::from(subtle::ConstantTimeEq::ct_eq(r.verifier_hash.as_bytes(), token.verifier_hash.as_bytes()))
            }))
        }

        /// The state of `jti` if it belongs to a family that is neither revoked nor past
        /// its expiry (locked for the transaction): what rotation and logout start from.
        async fn live_token_state(conn: &mut $conn, jti: &str, now: Timestamp) -> Result<Option<TokenState>, StoreError> {
            Ok(token_state(conn, jti, true).await?.filter(|s| s.revoked_at.is_none() && s.expires_at > now))
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> Result<(), StoreError> {
                self.run_migrations().await
            }

            fn pool_stats(&self) -> (u32, usize) {
                (self.pool.size(), self.pool.num_idle())
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, u: NewUser, audit: &AuditMeta) -> Result<UserRow, StoreError> {
                let mut tx = self.write_tx().await?;
                let row: UserRow = sqlx::query_as(&format!(
                    "INSERT INTO users (id, username, username_key, email, password_hash, is_active, \
                     is_superuser, date_joined, last_login, password_changed_at) \
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, NULL, $7) RETURNING {USER_COLUMNS}"
                ))
                .bind(&u.id)
                .bind(&u.username)
                .bind(&u.username_key)
                .bind(&u.email)
                .bind(&u.password_hash)
                .bind(u.is_superuser)
                .bind(u.now)
                .fetch_one(&mut *tx)
                .await?;
                let detail = serde_json::json!({ "is_superuser": u.is_superuser });
                insert_audit(&mut tx, AuditEvent::Register, Some(&row.id), &detail, u.now, audit).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn user_by_id(&self, id: &str) -> Result<Option<UserWithRoles>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                user_with_roles(&mut conn, id).await
            }

            async fn user_by_username_key(&self, key: &str) -> Result<Option<UserRow>, StoreError> {
                Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_user(
                &self,
                id: &str,
                changes: &UserChanges,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<Option<UserWithRoles>, StoreError> {
                let mut tx = self.write_tx().await?;
                let mut detail = serde_json::Map::new();
                if let Some(email) = &changes.email {
                    // A new address is unverified; setting the same one again keeps its state.
                    let n = sqlx::query(
                        "UPDATE users SET email_verified = CASE WHEN email = $1 THEN email_verified ELSE FALSE END, \
                         email = $1 WHERE id = $2",
                    )
                        .bind(email)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Ok(None);
                    }
                    detail.insert("email".into(), serde_json::Value::String(email.clone()));
                }
                if changes.is_active == Some(false) {
                    // SECURITY: decided inside the write transaction, with the active
                    // superusers locked (PostgreSQL) or the database locked (SQLite), so
                    // two deactivations at once cannot leave none.
                    let supers: Vec<String> = sqlx::query_scalar(&format!(
                        "SELECT id FROM users WHERE is_superuser = TRUE AND is_active = TRUE{}",
                        $mail_lock
                    ))
                    .fetch_all(&mut *tx)
                    .await?;
                    if supers.len() <= 1 && supers.iter().any(|s| s == id) {
                        return Err(StoreError::Conflict { constraint: LAST_SUPERUSER.into() });
                    }
                }
                if let Some(active) = changes.is_active {
                    let n = sqlx::query("UPDATE users SET is_active = $1 WHERE id = $2")
                        .bind(active)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Ok(None);
                    }
                    if !active {
                        let revoked = sqlx::query(
                            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                        )
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        detail.insert("sessions_revoked".into(), revoked.into());
                    }
                    detail.insert("is_active".into(), active.into());
                }
                let Some(user) = user_with_roles(&mut tx, id).await? else { return Ok(None) };
                if !detail.is_empty() {
                    let detail = serde_json::Value::Object(detail);
                    insert_audit(&mut tx, AuditEvent::UserUpdated, Some(id), &detail, now, audit).await?;
                }
                tx.commit().await?;
                Ok(Some(user))
            }

            async fn set_password(
                &self,
                id: &str,
                password_hash: &str,
                keep_session: Option<&str>,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                    .bind(password_hash)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let revoked = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3",
                )
                .bind(now)
                .bind(id)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let detail = serde_json::json!({ "sessions_revoked": revoked });
                insert_audit(&mut tx, AuditEvent::PasswordChanged, Some(id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn import_user(&self, u: &ImportedUser, now: Timestamp, audit: &AuditMeta) -> Result<ImportOutcome, StoreError> {
                let mut tx = self.write_tx().await?;
                let existing: Option<(String, Option<String>)> =
                    sqlx::query_as("SELECT id, imported_from FROM users WHERE username_key = $1")
                        .bind(&u.username_key)
                        .fetch_optional(&mut *tx)
                        .await?;
                // SECURITY: an account this import did not make (registered here, perhaps
                // by someone who guessed the name) is never given the record's flags or roles.
                if let Some((_, from)) = &existing {
                    if from.as_deref() != Some(u.source.as_str()) {
                        return Ok(ImportOutcome::TakenHere);
                    }
                }
                let created = existing.is_none();
                let id = match existing.map(|(id, _)| id) {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE users SET email = $1, is_active = $2, is_superuser = $3, date_joined = $4 WHERE id = $5",
                        )
                        .bind(&u.email)
                        .bind(u.is_active)
                        .bind(u.is_superuser)
                        .bind(u.date_joined)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO users (id, username, username_key, email, password_hash, is_active, \
                             is_superuser, date_joined, last_login, password_changed_at, imported_from) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10)",
                        )
                        .bind(&u.id)
                        .bind(&u.username)
                        .bind(&u.username_key)
                        .bind(&u.email)
                        .bind(&u.password_hash)
                        .bind(u.is_active)
                        .bind(u.is_superuser)
                        .bind(u.date_joined)
                        .bind(u.last_login)
                        .bind(&u.source)
                        .execute(&mut *tx)
                        .await?;
                        u.id.clone()
                    }
                };
                for role in &u.roles {
                    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(&id)
                        .bind(role)
                        .execute(&mut *tx)
                        .await?;
                }
                let (event, detail) = if created {
                    (AuditEvent::Register, serde_json::json!({ "imported_from": "django" }))
                } else {
                    (AuditEvent::UserUpdated, serde_json::json!({ "imported_from": "django" }))
                };
                insert_audit(&mut tx, event, Some(&id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(if created { ImportOutcome::Created } else { ImportOutcome::Updated })
            }

            async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
                let result = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(result.rows_affected() > 0)
            }

            async fn upgrade_password_hash(&self, id: &str, old_hash: &str, new_hash: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                    .bind(new_hash)
                    .bind(id)
                    .bind(old_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn start_session(&self, s: NewSession) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6)",
                )
                .bind(&s.id)
                .bind(&s.user_id)
                .bind(s.now)
                .bind(s.expires_at)
                .bind(&s.client.user_agent)
                .bind(&s.client.ip)
                .execute(&mut *tx)
                .await?;
                insert_refresh(&mut tx, &s.id, &s.first_token).await?;
                sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
                    .bind(s.now)
                    .bind(&s.user_id)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({ "session_id": s.id });
                let audit = AuditMeta::client(s.client.clone());
                insert_audit(&mut tx, AuditEvent::Login, Some(&s.user_id), &detail, s.now, &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rotate_refresh(
                &self,
                jti: &str,
                next: NewRefresh,
                now: Timestamp,
                reuse_interval: i64,
                max_session_age: i64,
                audit: &AuditMeta,
            ) -> Result<RotateOutcome, StoreError> {
                // The user (three reads) is read before the write lock is taken: on
                // SQLite every write waits for the one before it, and this shortened
                // each rotation's turn by a third. A session never changes owner, so the
                // unlocked read names the same user the locked one will.
                let user = {
                    let mut conn = self.pool.acquire().await?;
                    match token_state(&mut conn, jti, false).await? {
                        Some(s) => user_with_roles(&mut conn, &s.user_id).await?,
                        None => return Ok(RotateOutcome::Invalid),
                    }
                };
                // The lock (the database's on SQLite, the token row's on PostgreSQL)
                // serialises rotations of one token: the first spends it, every later one
                // sees `used_at` set. Dropping `tx` without commit rolls back.
                let mut tx = self.write_tx().await?;
                let Some(state) = live_token_state(&mut tx, jti, now).await? else {
                    return Ok(RotateOutcome::Invalid);
                };
                // The absolute lifetime: counted from the session's login, whatever its
                // refreshes did since.
                if now >= state.session_created_at.saturating_add(max_session_age) {
                    return Ok(RotateOutcome::Invalid);
                }
                if let Some(used_at) = state.used_at {
                    let benign = reuse_interval > 0 && now - used_at <= reuse_interval;
                    if benign {
                        // The same successor again, if it is still unspent: one family
                        // never has two live branches.
                        let Some(next_jti) = &state.replaced_by else { return Ok(RotateOutcome::Invalid) };
                        let successor: Option<(String, Timestamp, Timestamp)> = sqlx::query_as(
                            "SELECT jti, issued_at, expires_at FROM refresh_tokens WHERE jti = $1 AND used_at IS NULL",
                        )
                        .bind(next_jti)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let user = user.filter(|u| u.user.id == state.user_id && u.user.is_active);
                        return Ok(match (successor, user) {
                            (Some((jti, issued_at, expires_at)), Some(user)) => RotateOutcome::Replayed {
                                user: Box::new(user),
                                successor: NewRefresh { jti, issued_at, expires_at },
                            },
                            _ => RotateOutcome::Invalid,
                        });
                    }
                    revoke_session(&mut tx, &state.session_id, now).await?;
                    let detail = serde_json::json!({ "session_id": state.session_id, "presented_at": "refresh" });
                    insert_audit(&mut tx, AuditEvent::RefreshReuseDetected, Some(&state.user_id), &detail, now, audit)
                        .await?;
                    tx.commit().await?;
                    return Ok(RotateOutcome::ReuseDetected(state.into_reuse()));
                }
                let Some(user) = user.filter(|u| u.user.id == state.user_id) else {
                    return Ok(RotateOutcome::Invalid);
                };
                if !user.user.is_active {
                    return Ok(RotateOutcome::UserInactive);
                }
                // Spend the token, record its successor, extend the session and write
                // the audit event in one round trip (see `ROTATE_SQL` of each store):
                // the write lock is held for as few round trips as possible.
                let detail = serde_json::json!({ "session_id": state.session_id });
                sqlx::query($rotate)
                    .bind(now)
                    .bind(jti)
                    .bind(&next.jti)
                    .bind(&state.session_id)
                    .bind(next.issued_at)
                    .bind(next.expires_at)
                    .bind(AuditEvent::Refresh.as_str())
                    .bind(&state.user_id)
                    .bind(audit.actor_id.as_deref())
                    .bind(&audit.client.ip)
                    .bind(&audit.client.user_agent)
                    .bind(detail.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(RotateOutcome::Rotated(Box::new(user)))
            }

            async fn revoke_by_refresh(
                &self,
                jti: &str,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<RevokeOutcome, StoreError> {
                let mut tx = self.write_tx().await?;
                let Some(state) = live_token_state(&mut tx, jti, now).await? else {
                    return Ok(RevokeOutcome::Invalid);
                };
                revoke_session(&mut tx, &state.session_id, now).await?;
                let (event, detail) = match state.used_at {
                    Some(_) => (
                        AuditEvent::RefreshReuseDetected,
                        serde_json::json!({ "session_id": state.session_id, "presented_at": "logout" }),
                    ),
                    None => (AuditEvent::Logout, serde_json::json!({ "session_id": state.session_id })),
                };
                insert_audit(&mut tx, event, Some(&state.user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(match state.used_at {
                    Some(_) => RevokeOutcome::ReuseDetected(state.into_reuse()),
                    None => RevokeOutcome::Revoked { user_id: state.user_id },
                })
            }

            async fn refresh_is_live(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError> {
                let mut conn = self.pool.acquire().await?;
                Ok(matches!(
                    token_state(&mut conn, jti, false).await?,
                    Some(s) if s.used_at.is_none() && s.revoked_at.is_none() && s.expires_at > now
                ))
            }

            async fn active_users_by_email(&self, email: &str) -> Result<Vec<UserRow>, StoreError> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = $1 AND email <> '' AND is_active = TRUE"
                ))
                .bind(email.to_lowercase())
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_mail_token(
                &self,
                t: &NewMailToken,
                event: Option<AuditEvent>,
                audit: &AuditMeta,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(
                    "INSERT INTO mail_tokens (id, verifier_hash, purpose, user_id, email, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&t.id)
                .bind(&t.verifier_hash)
                .bind(t.purpose.as_str())
                .bind(&t.user_id)
                .bind(&t.email)
                .bind(t.now)
                .bind(t.expires_at)
                .execute(&mut *tx)
                .await?;
                if let Some(event) = event {
                    let detail = serde_json::json!({ "email": t.email, "expires_at": t.expires_at });
                    insert_audit(&mut tx, event, Some(&t.user_id), &detail, t.now, audit).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn mail_token(
                &self,
                token: &PresentedMailToken,
                purpose: MailPurpose,
                now: Timestamp,
            ) -> Result<Option<MailTokenRow>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                live_mail_token(&mut conn, token, purpose, now, false).await
            }

            async fn reset_password(
                &self,
                token: &PresentedMailToken,
                password_hash: &str,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<Option<String>, StoreError> {
                let mut tx = self.write_tx().await?;
                let Some(row) = live_mail_token(&mut tx, token, MailPurpose::PasswordReset, now, true).await? else {
                    return Ok(None);
                };
                // Following the link proves the address, as a verification mail would.
                let changed = sqlx::query(
                    "UPDATE users SET password_hash = $1, password_changed_at = $2, \
                     email_verified = CASE WHEN lower(email) = lower($3) THEN TRUE ELSE email_verified END \
                     WHERE id = $4 AND is_active = TRUE",
                )
                .bind(password_hash)
                .bind(now)
                .bind(&row.email)
                .bind(&row.user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                // This token and every other reset link of the user: one reset per mail.
                sqlx::query(
                    "UPDATE mail_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(&row.user_id)
                .bind(MailPurpose::PasswordReset.as_str())
                .execute(&mut *tx)
                .await?;
                let revoked = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(&row.user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let detail = serde_json::json!({ "sessions_revoked": revoked });
                insert_audit(&mut tx, AuditEvent::PasswordReset, Some(&row.user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(Some(row.user_id))
            }

            async fn verify_email(
                &self,
                token: &PresentedMailToken,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<Option<String>, StoreError> {
                let mut tx = self.write_tx().await?;
                let Some(row) = live_mail_token(&mut tx, token, MailPurpose::EmailVerification, now, true).await? else {
                    return Ok(None);
                };
                // Only if the address is still the user's: a link to an old address
                // verifies nothing.
                let changed = sqlx::query(
                    "UPDATE users SET email_verified = TRUE WHERE id = $1 AND lower(email) = lower($2) AND email <> ''",
                )
                .bind(&row.user_id)
                .bind(&row.email)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                sqlx::query("UPDATE mail_tokens SET used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&token.id)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({ "email": row.email });
                insert_audit(&mut tx, AuditEvent::EmailVerified, Some(&row.user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(Some(row.user_id))
            }

            async fn spend_token(
                &self,
                token: &PresentedMailToken,
                purpose: MailPurpose,
                now: Timestamp,
            ) -> Result<Option<String>, StoreError> {
                let mut tx = self.write_tx().await?;
                let Some(row) = live_mail_token(&mut tx, token, purpose, now, true).await? else {
                    return Ok(None);
                };
                sqlx::query("UPDATE mail_tokens SET used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&token.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(row.user_id))
            }

            async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT secret, confirmed_at, last_step, failures, locked_until FROM totp_factors WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn start_totp(&self, user_id: &str, sealed_secret: &str, now: Timestamp) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                // Never over a confirmed factor: that is turned off first, with a code.
                sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO totp_factors (user_id, secret, created_at) VALUES ($1, $2, $3)")
                    .bind(user_id)
                    .bind(sealed_secret)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn confirm_totp(
                &self,
                user_id: &str,
                step: i64,
                code_hashes: &[String],
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(
                    "UPDATE totp_factors SET confirmed_at = $1, last_step = $2, failures = 0 \
                     WHERE user_id = $3 AND confirmed_at IS NULL",
                )
                .bind(now)
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                put_recovery_codes(&mut tx, user_id, code_hashes).await?;
                let detail = serde_json::json!({ "factor": "totp", "recovery_codes": code_hashes.len() });
                insert_audit(&mut tx, AuditEvent::MfaEnabled, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let n = sqlx::query(
                    "UPDATE totp_factors SET last_step = $1, failures = 0 WHERE user_id = $2 AND last_step < $1",
                )
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn totp_attempt(
                &self,
                user_id: &str,
                now: Timestamp,
                lock: &TotpLock,
            ) -> Result<Option<i64>, StoreError> {
                // One statement: the count and the lock it may set cannot be raced by
                // another attempt. The `every`th failure locks, longer as they add up.
                Ok(sqlx::query_scalar(
                    "UPDATE totp_factors SET failures = failures + 1, locked_until = CASE \
                       WHEN (failures + 1) % $3 <> 0 THEN locked_until \
                       WHEN failures + 1 >= $6 THEN $2 + $7 \
                       WHEN failures + 1 >= $4 THEN $2 + $5 \
                       ELSE $2 + $8 END \
                     WHERE user_id = $1 AND confirmed_at IS NOT NULL AND locked_until <= $2 \
                     RETURNING failures",
                )
                .bind(user_id)
                .bind(now)
                .bind(lock.every)
                .bind(lock.second_at)
                .bind(lock.second_secs)
                .bind(lock.third_at)
                .bind(lock.third_secs)
                .bind(lock.first_secs)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn clear_totp_failures(&self, user_id: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE totp_factors SET failures = 0, locked_until = 0 WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: Timestamp) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let n = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(user_id)
                .bind(code_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn replace_recovery_codes(
                &self,
                user_id: &str,
                code_hashes: &[String],
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                put_recovery_codes(&mut tx, user_id, code_hashes).await?;
                let detail = serde_json::json!({ "recovery_codes": code_hashes.len() });
                insert_audit(&mut tx, AuditEvent::RecoveryCodesRegenerated, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
                Ok(sqlx::query_as(&format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"))
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError> {
                Ok(sqlx::query_as(&format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1"))
                    .bind(credential_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn insert_passkey(
                &self,
                passkey: &PasskeyRow,
                code_hashes: &[String],
                audit: &AuditMeta,
            ) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let inserted = sqlx::query(
                    "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
                )
                .bind(&passkey.id)
                .bind(&passkey.user_id)
                .bind(&passkey.credential_id)
                .bind(&passkey.name)
                .bind(&passkey.passkey)
                .bind(passkey.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(false);
                }
                if !code_hashes.is_empty() {
                    put_recovery_codes(&mut tx, &passkey.user_id, code_hashes).await?;
                }
                let detail = serde_json::json!({
                    "factor": "passkey", "name": passkey.name, "recovery_codes": code_hashes.len(),
                });
                insert_audit(&mut tx, AuditEvent::MfaEnabled, Some(&passkey.user_id), &detail, passkey.created_at, audit)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn touch_passkey(&self, id: &str, passkey: &str, now: Timestamp) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
                    .bind(passkey)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_passkey(
                &self,
                user_id: &str,
                id: &str,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let name: Option<String> =
                    sqlx::query_scalar("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
                        .bind(id)
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(name) = name else { return Ok(false) };
                drop_orphan_recovery_codes(&mut tx, user_id).await?;
                let detail = serde_json::json!({ "factor": "passkey", "name": name });
                insert_audit(&mut tx, AuditEvent::MfaDisabled, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn put_ceremony(&self, ceremony: &CeremonyRow, now: Timestamp) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1 OR expires_at <= $2")
                    .bind(&ceremony.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // Two starts of one ceremony at once (a double click) both succeed: the
                // later one's challenge stands.
                sqlx::query(
                    "INSERT INTO webauthn_ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, \
                     state = excluded.state, expires_at = excluded.expires_at",
                )
                .bind(&ceremony.id)
                .bind(&ceremony.kind)
                .bind(&ceremony.user_id)
                .bind(&ceremony.state)
                .bind(ceremony.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue_mail(&self, id: &str, sealed: &str, now: Timestamp) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("INSERT INTO mail_outbox (id, sealed, created_at, next_attempt_at) VALUES ($1, $2, $3, $3)")
                    .bind(id)
                    .bind(sealed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_mails(
                &self,
                now: Timestamp,
                lease_until: Timestamp,
                limit: i64,
            ) -> Result<Vec<OutboxMail>, StoreError> {
                let mut tx = self.write_tx().await?;
                // The outer condition is checked again on the row as it is when updated
                // (PostgreSQL), so of two instances claiming at once only one gets a mail.
                let rows: Vec<OutboxMail> = sqlx::query_as(
                    "UPDATE mail_outbox SET claimed_until = $1 \
                     WHERE claimed_until <= $2 AND next_attempt_at <= $2 AND id IN ( \
                         SELECT id FROM mail_outbox WHERE claimed_until <= $2 AND next_attempt_at <= $2 \
                         ORDER BY next_attempt_at LIMIT $3) \
                     RETURNING id, sealed, created_at, attempts",
                )
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(rows)
            }

            async fn delete_mail(&self, id: &str) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("DELETE FROM mail_outbox WHERE id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn retry_mail(&self, id: &str, next_attempt_at: Timestamp, error: &str) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, claimed_until = 0, \
                     last_error = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(next_attempt_at)
                .bind(error)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn pending_mails(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox").fetch_one(&self.pool).await?)
            }

            async fn take_ceremony(&self, id: &str, kind: &str, now: Timestamp) -> Result<Option<CeremonyRow>, StoreError> {
                let mut tx = self.write_tx().await?;
                let row: Option<CeremonyRow> = sqlx::query_as(
                    "DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 \
                     RETURNING id, kind, user_id, state, expires_at",
                )
                .bind(id)
                .bind(kind)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row.filter(|c| c.expires_at > now))
            }

            async fn remove_mfa(
                &self,
                user_id: &str,
                totp_only: bool,
                event: AuditEvent,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let factors = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let passkeys = if totp_only {
                    0
                } else {
                    sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                };
                let codes = drop_orphan_recovery_codes(&mut tx, user_id).await?;
                if factors + passkeys + codes == 0 {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "factors": factors, "passkeys": passkeys, "recovery_codes": codes });
                insert_audit(&mut tx, event, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn flush_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
                let mut tx = self.write_tx().await?;
                let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                // A family whose last token expired is over; its tokens go with it.
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(tokens)
            }

            async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT kid, algorithm, private_key, public_jwk, status, created_at, activated_at, retired_at \
                     FROM signing_keys ORDER BY created_at DESC, kid",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_signing_key(&self, k: &SigningKeyRow) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, status, created_at, activated_at, retired_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&k.kid)
                .bind(&k.algorithm)
                .bind(&k.private_key)
                .bind(&k.public_jwk)
                .bind(&k.status)
                .bind(k.created_at)
                .bind(k.activated_at)
                .bind(k.retired_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn activate_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let found: Option<String> =
                    sqlx::query_scalar("SELECT status FROM signing_keys WHERE kid = $1")
                        .bind(kid)
                        .fetch_optional(&mut *tx)
                        .await?;
                match found.as_deref() {
                    Some("published") => {}
                    Some("active") => return Ok(true),
                    _ => return Ok(false),
                }
                sqlx::query("UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE status = 'active'")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE signing_keys SET status = 'active', activated_at = $1 WHERE kid = $2")
                    .bind(now)
                    .bind(kid)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn retire_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE kid = $2 AND status NOT IN ('retired', 'revoked')",
                )
                .bind(now)
                .bind(kid)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn revoke_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE signing_keys SET status = 'revoked', retired_at = COALESCE(retired_at, $1) \
                     WHERE kid = $2 AND status <> 'revoked'",
                )
                .bind(now)
                .bind(kid)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn session_state(&self, session_id: &str) -> Result<Option<SessionState>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, created_at, revoked_at, reauthenticated_at FROM sessions WHERE id = $1",
                )
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn mark_reauthenticated(
                &self,
                user_id: &str,
                session_id: &str,
                now: Timestamp,
            ) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE sessions SET reauthenticated_at = $1 \
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(session_id)
                .bind(user_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<SessionRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, created_at, last_used_at, user_agent, ip FROM sessions \
                     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                     ORDER BY last_used_at DESC, created_at DESC",
                )
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn revoke_user_session(
                &self,
                user_id: &str,
                session_id: &str,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let revoked = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 \
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .bind(session_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    > 0;
                if revoked {
                    let detail = serde_json::json!({ "session_id": session_id });
                    insert_audit(&mut tx, AuditEvent::SessionRevoked, Some(user_id), &detail, now, audit).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn revoke_all_sessions(&self, user_id: &str, now: Timestamp, audit: &AuditMeta) -> Result<u64, StoreError> {
                let mut tx = self.write_tx().await?;
                let ids: Vec<String> = sqlx::query_scalar(
                    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id",
                )
                .bind(now)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
                let detail = serde_json::json!({ "all": true, "sessions": ids });
                insert_audit(&mut tx, AuditEvent::SessionRevoked, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(ids.len() as u64)
            }

            async fn list_users(&self, search: &str, offset: i64, limit: i64) -> Result<Page<UserWithRoles>, StoreError> {
                let pattern = format!("%{}%", escape_like(search));
                let filter = "WHERE ($1 = '' OR username_key LIKE $2 ESCAPE '\\' OR lower(email) LIKE $2 ESCAPE '\\')";
                let mut conn = self.pool.acquire().await?;
                let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users {filter}"))
                    .bind(search)
                    .bind(&pattern)
                    .fetch_one(&mut *conn)
                    .await?;
                let users: Vec<UserRow> = sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users {filter} ORDER BY username_key LIMIT $3 OFFSET $4"
                ))
                .bind(search)
                .bind(&pattern)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                let mut rows = Vec::with_capacity(users.len());
                for user in users {
                    let (roles, permissions) = roles_and_permissions(&mut conn, &user.id).await?;
                    rows.push(UserWithRoles { user, roles, permissions });
                }
                Ok(Page { count, rows })
            }

            async fn count_active_superusers(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_superuser AND is_active")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn set_user_roles(
                &self,
                user_id: &str,
                roles: &[String],
                expected: Option<&[String]>,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<Option<UserWithRoles>, StoreError> {
                let mut tx = self.write_tx().await?;
                // The user's row locked (PostgreSQL; SQLite's write lock covers it), so the
                // roles compared below are the ones replaced.
                sqlx::query(&format!("SELECT id FROM users WHERE id = $1{}", $mail_lock))
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(before) = user_with_roles(&mut tx, user_id).await? else { return Ok(None) };
                if expected.is_some_and(|e| !same_set(e, &before.roles)) {
                    return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
                }
                sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for role in roles {
                    // An unknown role fails the foreign key: `Conflict`, and nothing changes.
                    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(role)
                        .execute(&mut *tx)
                        .await?;
                }
                let after = user_with_roles(&mut tx, user_id).await?;
                let new_roles = after.as_ref().map(|u| u.roles.clone()).unwrap_or_default();
                let detail = serde_json::json!({ "before": before.roles, "after": new_roles });
                insert_audit(&mut tx, AuditEvent::RolesAssigned, Some(user_id), &detail, now, audit).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn list_roles(&self) -> Result<Vec<RoleRow>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let names: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM roles ORDER BY name").fetch_all(&mut *conn).await?;
                let mut roles = Vec::with_capacity(names.len());
                for name in names {
                    if let Some(role) = load_role(&mut conn, &name).await? {
                        roles.push(role);
                    }
                }
                Ok(roles)
            }

            async fn role(&self, name: &str) -> Result<Option<RoleRow>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                load_role(&mut conn, name).await
            }

            async fn create_role(&self, role: &RoleRow, now: Timestamp, audit: &AuditMeta) -> Result<RoleRow, StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("INSERT INTO roles (name, description, builtin) VALUES ($1, $2, FALSE)")
                    .bind(&role.name)
                    .bind(&role.description)
                    .execute(&mut *tx)
                    .await?;
                replace_permissions(&mut tx, &role.name, &role.permissions).await?;
                let created = load_role(&mut tx, &role.name)
                    .await?
                    .ok_or_else(|| StoreError::Other("role vanished inside its transaction".into()))?;
                let detail = serde_json::json!({ "role": created.name, "permissions": created.permissions });
                insert_audit(&mut tx, AuditEvent::RoleCreated, None, &detail, now, audit).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn update_role(
                &self,
                name: &str,
                description: Option<&str>,
                permissions: Option<&[String]>,
                expected: Option<&[String]>,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<Option<RoleRow>, StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query(&format!("SELECT name FROM roles WHERE name = $1{}", $mail_lock))
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(before) = load_role(&mut tx, name).await? else { return Ok(None) };
                if expected.is_some_and(|e| !same_set(e, &before.permissions)) {
                    return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
                }
                if let Some(d) = description {
                    sqlx::query("UPDATE roles SET description = $1 WHERE name = $2")
                        .bind(d)
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(p) = permissions {
                    replace_permissions(&mut tx, name, p).await?;
                }
                let after = load_role(&mut tx, name).await?;
                let detail = serde_json::json!({
                    "role": name,
                    "permissions_before": before.permissions,
                    "permissions_after": after.as_ref().map(|r| r.permissions.clone()),
                    "description_changed": description.is_some_and(|d| d != before.description),
                });
                insert_audit(&mut tx, AuditEvent::RoleUpdated, None, &detail, now, audit).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn delete_role(&self, name: &str, now: Timestamp, audit: &AuditMeta) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let holders: Vec<String> = sqlx::query_scalar("SELECT user_id FROM user_roles WHERE role = $1")
                    .bind(name)
                    .fetch_all(&mut *tx)
                    .await?;
                let deleted = sqlx::query("DELETE FROM roles WHERE name = $1 AND NOT builtin")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                if deleted {
                    let detail = serde_json::json!({ "role": name, "holders": holders });
                    insert_audit(&mut tx, AuditEvent::RoleDeleted, None, &detail, now, audit).await?;
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn record_audit(
                &self,
                event: AuditEvent,
                user_id: Option<&str>,
                detail: &serde_json::Value,
                now: Timestamp,
                audit: &AuditMeta,
            ) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await?;
                insert_audit(&mut conn, event, user_id, detail, now, audit).await
            }

            async fn list_audit(&self, filter: &AuditFilter, offset: i64, limit: i64) -> Result<Page<AuditRow>, StoreError> {
                let wanted = "WHERE ($1 IS NULL OR user_id = $1 \
                     OR user_id = (SELECT id FROM users WHERE username_key = $2) \
                     OR ($2 IS NOT NULL AND lower(username) = $2)) \
                     AND ($3 IS NULL OR event = $3)";
                // `$1` alone cannot tell an id from a name: both are tried.
                let id = filter.user_id.as_deref().or(filter.username_key.as_deref());
                let mut conn = self.pool.acquire().await?;
                let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log {wanted}"))
                    .bind(id)
                    .bind(filter.username_key.as_deref())
                    .bind(filter.event.as_deref())
                    .fetch_one(&mut *conn)
                    .await?;
                let rows: Vec<AuditRow> = sqlx::query_as(&format!(
                    "SELECT id, time, event, user_id, username, actor_id, ip, user_agent, detail \
                     FROM audit_log {wanted} ORDER BY id DESC LIMIT $4 OFFSET $5"
                ))
                .bind(id)
                .bind(filter.username_key.as_deref())
                .bind(filter.event.as_deref())
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await?;
                Ok(Page { count, rows })
            }
        }
    };
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) use impl_sql_store;

/// A refresh token's record joined with its family, as rotation and logout need it.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenState {
    pub session_id: String,
    pub used_at: Option<super::Timestamp>,
    pub used_ip: Option<String>,
    pub used_user_agent: Option<String>,
    pub expires_at: super::Timestamp,
    pub user_id: String,
    pub revoked_at: Option<super::Timestamp>,
    pub session_created_at: super::Timestamp,
    pub replaced_by: Option<String>,
}

impl TokenState {
    pub fn into_reuse(self) -> super::Reuse {
        super::Reuse {
            user_id: self.user_id,
            session_id: self.session_id,
            first_used_at: self.used_at.unwrap_or_default(),
            first_ip: self.used_ip.unwrap_or_default(),
            first_user_agent: self.used_user_agent.unwrap_or_default(),
        }
    }
}
