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
    ($store:ident, $db:ty, $conn:ty, row_lock = $row_lock:literal) => {
        const USER_COLUMNS: &str = "id, username, email, password_hash, is_active, is_superuser, \
             date_joined, last_login, password_changed_at";

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

        /// A refresh token's record joined with its family. `lock` takes the row lock
        /// that serialises rotations of one token across connections and instances.
        async fn token_state(conn: &mut $conn, jti: &str, lock: bool) -> Result<Option<TokenState>, StoreError> {
            let sql = format!(
                "SELECT rt.session_id, rt.used_at, rt.expires_at, s.user_id, s.revoked_at \
                 FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.jti = $1{}",
                if lock { $row_lock } else { "" }
            );
            Ok(sqlx::query_as(&sql).bind(jti).fetch_optional(&mut *conn).await?)
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> Result<(), StoreError> {
                self.run_migrations().await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(&self, u: NewUser) -> Result<UserRow, StoreError> {
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
                .fetch_one(&self.pool)
                .await?;
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

            async fn set_email(&self, id: &str, email: &str) -> Result<Option<UserWithRoles>, StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                    .bind(email)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let user = user_with_roles(&mut tx, id).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn set_password(
                &self,
                id: &str,
                password_hash: &str,
                keep_session: Option<&str>,
                now: Timestamp,
            ) -> Result<(), StoreError> {
                let mut tx = self.write_tx().await?;
                sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                    .bind(password_hash)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3",
                )
                .bind(now)
                .bind(id)
                .bind(keep_session)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_active(&self, id: &str, active: bool, now: Timestamp) -> Result<bool, StoreError> {
                let mut tx = self.write_tx().await?;
                let found = sqlx::query("UPDATE users SET is_active = $1 WHERE id = $2")
                    .bind(active)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                if found && !active {
                    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(found)
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
                tx.commit().await?;
                Ok(())
            }

            async fn rotate_refresh(
                &self,
                jti: &str,
                next: NewRefresh,
                now: Timestamp,
                reuse_interval: i64,
            ) -> Result<RotateOutcome, StoreError> {
                // The lock (the database's on SQLite, the token row's on PostgreSQL)
                // serialises rotations of one token: the first spends it, every later one
                // sees `used_at` set. Dropping `tx` without commit rolls back.
                let mut tx = self.write_tx().await?;
                let Some(state) = token_state(&mut tx, jti, true).await? else {
                    return Ok(RotateOutcome::Invalid);
                };
                if state.revoked_at.is_some() || state.expires_at <= now {
                    return Ok(RotateOutcome::Invalid);
                }
                if let Some(used_at) = state.used_at {
                    let benign = reuse_interval > 0 && now - used_at <= reuse_interval;
                    if !benign {
                        revoke_session(&mut tx, &state.session_id, now).await?;
                        tx.commit().await?;
                        return Ok(RotateOutcome::ReuseDetected {
                            user_id: state.user_id,
                            session_id: state.session_id,
                        });
                    }
                }
                let Some(user) = user_with_roles(&mut tx, &state.user_id).await? else {
                    return Ok(RotateOutcome::Invalid);
                };
                if !user.user.is_active {
                    return Ok(RotateOutcome::UserInactive);
                }
                if state.used_at.is_none() {
                    sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE jti = $2 AND used_at IS NULL")
                        .bind(now)
                        .bind(jti)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_refresh(&mut tx, &state.session_id, &next).await?;
                sqlx::query("UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE id = $3")
                    .bind(now)
                    .bind(next.expires_at)
                    .bind(&state.session_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(RotateOutcome::Rotated(Box::new(user)))
            }

            async fn revoke_by_refresh(&self, jti: &str, now: Timestamp) -> Result<RevokeOutcome, StoreError> {
                let mut tx = self.write_tx().await?;
                let Some(state) = token_state(&mut tx, jti, true).await? else {
                    return Ok(RevokeOutcome::Invalid);
                };
                if state.revoked_at.is_some() || state.expires_at <= now {
                    return Ok(RevokeOutcome::Invalid);
                }
                revoke_session(&mut tx, &state.session_id, now).await?;
                tx.commit().await?;
                Ok(match state.used_at {
                    Some(_) => RevokeOutcome::ReuseDetected { user_id: state.user_id, session_id: state.session_id },
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
        }
    };
}

pub(crate) use impl_sql_store;

/// A refresh token's record joined with its family, as rotation and logout need it.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenState {
    pub session_id: String,
    pub used_at: Option<super::Timestamp>,
    pub expires_at: super::Timestamp,
    pub user_id: String,
    pub revoked_at: Option<super::Timestamp>,
}
