//! Refresh-token rotation, many at a time: the rotations that arrive together are decided
//! and written in one transaction (see `store::group_commit`). Each is still a
//! compare-and-set on its token — decided in arrival order against the state the ones
//! before it left, so a token presented twice in one batch is spent once and the second
//! presentation is reuse (or, within the reuse interval, a replay of the same successor),
//! exactly as if they had come one after the other.

use std::collections::{HashMap, HashSet};

use super::audit::insert_audit;
use super::sessions::{revoke_session, TokenState, TOKEN_STATE_SELECT};
use super::users::users_with_roles;
use crate::store::db::{sql, Arg, Backend, Conn};
use crate::store::{AuditEvent, AuditMeta, NewRefresh, RotateOutcome, RotationRules, StoreError, Timestamp};

/// One rotation asked for: spend `jti` (a token of `client`'s; `None`: first-party) and
/// record `next` in its family.
pub struct RotationRequest {
    pub jti: String,
    pub client: Option<String>,
    pub next: NewRefresh,
    pub now: Timestamp,
    pub rules: RotationRules,
    pub audit: AuditMeta,
}

/// What the batch writes for one successful rotation.
struct Spend<'a> {
    req: &'a RotationRequest,
    session_id: String,
    user_id: String,
    detail: String,
}

/// Decides and writes `reqs` on `c` (a write transaction); one outcome per request, in
/// order. An error leaves the transaction to be rolled back.
pub async fn rotate_batch(
    c: &mut Conn<'_>,
    reqs: &[RotationRequest],
) -> Result<Vec<RotateOutcome>, StoreError> {
    let mut states = locked_states(c, reqs).await?;
    // The users, read under the locks (a deactivation or a role change committed before
    // is seen): their roles go into the new access tokens.
    let user_ids: HashSet<&str> = states.values().map(|s| s.user_id.as_str()).collect();
    let user_ids: Vec<&str> = user_ids.into_iter().collect();
    let users = users_with_roles(c, &user_ids).await?;
    let mut revoked: HashSet<String> = HashSet::new();
    // Successors recorded by this batch (not in the database until it commits).
    let mut created: HashMap<String, NewRefresh> = HashMap::new();
    let mut spends = Vec::new();
    let mut reuses = Vec::new();
    let mut outcomes = Vec::with_capacity(reqs.len());
    for req in reqs {
        let RotationRules { reuse_interval, max_session_age } = req.rules;
        let now = req.now;
        let live = states.get(&req.jti).filter(|s| {
            s.revoked_at.is_none()
                && !revoked.contains(&s.session_id)
                && s.expires_at > now
                && s.client_id.as_deref() == req.client.as_deref()
        });
        let Some(state) = live.cloned() else {
            outcomes.push(RotateOutcome::Invalid);
            continue;
        };
        // The absolute lifetime: counted from the session's login, whatever its
        // refreshes did since.
        if now >= state.session_created_at.saturating_add(max_session_age) {
            outcomes.push(RotateOutcome::Invalid);
            continue;
        }
        let user = users.get(&state.user_id);
        // Spent by this very request: a batch whose commit went through but whose
        // answer was lost is retried (one by one); its rotations stand, not as reuse.
        if state.used_at.is_some() && state.replaced_by.as_deref() == Some(req.next.jti.as_str()) {
            outcomes.push(match user {
                Some(u) if u.user.is_active => RotateOutcome::Rotated(Box::new(u.clone())),
                Some(_) => RotateOutcome::UserInactive,
                None => RotateOutcome::Invalid,
            });
            continue;
        }
        if let Some(used_at) = state.used_at {
            if reuse_interval > 0 && now - used_at <= reuse_interval {
                // A benign retry: the same successor again, if it is still unspent. One
                // family never has two live branches.
                let successor = match &state.replaced_by {
                    Some(next) => match created.get(next) {
                        Some(n) => states
                            .get(next)
                            .filter(|s| s.used_at.is_none())
                            .map(|_| NewRefresh { jti: n.jti.clone(), ..*n }),
                        None => unspent(c, next).await?,
                    },
                    None => None,
                };
                outcomes.push(match (successor, user.filter(|u| u.user.is_active)) {
                    (Some(successor), Some(user)) => {
                        RotateOutcome::Replayed { user: Box::new(user.clone()), successor }
                    }
                    _ => RotateOutcome::Invalid,
                });
                continue;
            }
            revoked.insert(state.session_id.clone());
            reuses.push((req, state.session_id.clone(), state.user_id.clone()));
            outcomes.push(RotateOutcome::ReuseDetected(state.into_reuse()));
            continue;
        }
        let Some(user) = user else {
            outcomes.push(RotateOutcome::Invalid);
            continue;
        };
        if !user.user.is_active {
            outcomes.push(RotateOutcome::UserInactive);
            continue;
        }
        let (session_id, user_id) = (state.session_id.clone(), state.user_id.clone());
        let detail = serde_json::json!({ "session_id": session_id }).to_string();
        // Spent now: a second presentation later in this batch sees it so.
        let successor = TokenState {
            jti: req.next.jti.clone(),
            used_at: None,
            used_ip: None,
            used_user_agent: None,
            expires_at: req.next.expires_at,
            replaced_by: None,
            ..state.clone()
        };
        if let Some(s) = states.get_mut(&req.jti) {
            s.used_at = Some(now);
            s.used_ip = Some(req.audit.client.ip.clone());
            s.used_user_agent = Some(req.audit.client.user_agent.clone());
            s.replaced_by = Some(req.next.jti.clone());
        }
        states.insert(req.next.jti.clone(), successor);
        created.insert(req.next.jti.clone(), NewRefresh { jti: req.next.jti.clone(), ..req.next });
        spends.push(Spend { req, session_id, user_id, detail });
        outcomes.push(RotateOutcome::Rotated(Box::new(user.clone())));
    }
    write_spends(c, &spends).await?;
    for (req, session_id, user_id) in reuses {
        revoke_session(c, &session_id, req.now).await?;
        let detail = serde_json::json!({ "session_id": session_id, "presented_at": "refresh" });
        insert_audit(c, AuditEvent::RefreshReuseDetected, Some(&user_id), &detail, req.now, &req.audit)
            .await?;
    }
    Ok(outcomes)
}

/// The states of the batch's tokens, by jti. On PostgreSQL their rows and their
/// sessions' are locked, token before session as logout locks them, in jti order so two
/// batches never wait on each other in a circle; a revocation committing meanwhile (a
/// password change, a deactivation) is seen before anything is decided. SQLite's write
/// lock, taken when the transaction began, covers them.
async fn locked_states(
    c: &mut Conn<'_>,
    reqs: &[RotationRequest],
) -> Result<HashMap<String, TokenState>, StoreError> {
    let q = locked_states_sql(c.backend(), reqs.len());
    let mut query = sql(&q);
    for r in reqs {
        query = query.bind(r.jti.as_str());
    }
    let rows: Vec<TokenState> = c.all(query).await?;
    Ok(rows.into_iter().map(|s| (s.jti.clone(), s)).collect())
}

/// The states of `n` tokens ($1 … $n), locked (see `locked_states`).
pub(super) fn locked_states_sql(backend: Backend, n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE OF rt, s",
    };
    format!("{TOKEN_STATE_SELECT} WHERE rt.jti IN ({}) ORDER BY rt.jti{lock}", marks.join(", "))
}

/// `jti`'s record if it is still unspent.
async fn unspent(c: &mut Conn<'_>, jti: &str) -> Result<Option<NewRefresh>, StoreError> {
    let q = sql("SELECT jti, issued_at, expires_at FROM refresh_tokens WHERE jti = $1 AND used_at IS NULL");
    let row: Option<(String, Timestamp, Timestamp)> = c.optional(q.bind(jti)).await?;
    Ok(row.map(|(jti, issued_at, expires_at)| NewRefresh { jti, issued_at, expires_at }))
}

/// The parameters of one rotation's writes, in the order `ROTATE_PARAMS` names them.
fn spend_args<'a>(s: &'a Spend<'a>) -> [Arg<'a>; ROTATE_PARAMS] {
    let r = s.req;
    [
        r.now.into(),
        r.jti.as_str().into(),
        r.next.jti.as_str().into(),
        s.session_id.as_str().into(),
        r.next.issued_at.into(),
        r.next.expires_at.into(),
        s.user_id.as_str().into(),
        r.audit.actor_id.as_deref().into(),
        r.audit.client.ip.as_str().into(),
        r.audit.client.user_agent.as_str().into(),
        s.detail.as_str().into(),
    ]
}

/// $1 now, $2 spent jti, $3 successor jti, $4 session, $5 issued at, $6 expires at,
/// $7 user, $8 actor, $9 ip, $10 user agent, $11 detail.
const ROTATE_PARAMS: usize = 11;

/// Every successful rotation's writes (spend the token, record its successor, extend the
/// session, the audit entry) in one round trip.
async fn write_spends(c: &mut Conn<'_>, spends: &[Spend<'_>]) -> Result<(), StoreError> {
    if spends.is_empty() {
        return Ok(());
    }
    let q = match c.backend() {
        Backend::Sqlite => sqlite_batch(spends.len()),
        Backend::Postgres => postgres_batch(spends.len()),
    };
    let mut query = sql(&q);
    for s in spends {
        for a in spend_args(s) {
            query = query.bind(a);
        }
    }
    // Every token spent, as decided under the lock: anything else fails the batch (and
    // each rotation is tried again alone) rather than record a successor for a token
    // that was not spent.
    let spent = match c.backend() {
        // Four rows per rotation: the token, its successor, the session, the audit entry.
        Backend::Sqlite => c.execute(query).await? / 4,
        Backend::Postgres => u64::try_from(c.scalar::<i64>(query).await?).unwrap_or(0),
    };
    if spent != spends.len() as u64 {
        return Err(StoreError::Other(format!("a rotation batch spent {spent} of {} tokens", spends.len())));
    }
    Ok(())
}

/// SQLite: the four statements once per rotation, in one string (SQLite runs them in
/// process, so a string of many statements is one call), each rotation its own `$N`.
fn sqlite_batch(n: usize) -> String {
    let statements: Vec<String> = (0..n).map(|i| numbered(SQLITE_ROTATION, i * ROTATE_PARAMS)).collect();
    statements.join("; ")
}

const SQLITE_ROTATION: &str = "\
    UPDATE refresh_tokens SET used_at = $1, used_ip = $9, used_user_agent = $10, replaced_by = $3 WHERE jti = $2 AND used_at IS NULL; \
    INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES ($3, $4, $5, $6); \
    UPDATE sessions SET last_used_at = $1, expires_at = $6 WHERE id = $4; \
    INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
    VALUES ($1, 'refresh', $7, (SELECT username FROM users WHERE id = $7), $8, $9, $10, $11)";

/// PostgreSQL: one statement for the whole batch (data-modifying CTEs over a `VALUES`
/// list, writing only for the tokens actually spent, answering how many), so a batch
/// costs one round trip whatever its size. No two rows of a batch
/// touch the same token or session (a token is spent once per batch, and a session has
/// one unspent token).
fn postgres_batch(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let marks: Vec<String> =
                (1..=ROTATE_PARAMS).map(|p| format!("${}", i * ROTATE_PARAMS + p)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!(
        "WITH v (now, jti, next_jti, session_id, issued_at, expires_at, user_id, actor_id, ip, user_agent, detail) \
         AS (VALUES {}), \
         spent AS (UPDATE refresh_tokens rt SET used_at = v.now, used_ip = v.ip, used_user_agent = v.user_agent, \
                   replaced_by = v.next_jti FROM v WHERE rt.jti = v.jti AND rt.used_at IS NULL RETURNING rt.jti), \
         w AS (SELECT v.* FROM v JOIN spent ON spent.jti = v.jti), \
         successor AS (INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) \
                       SELECT next_jti, session_id, issued_at, expires_at FROM w), \
         extended AS (UPDATE sessions s SET last_used_at = w.now, expires_at = w.expires_at FROM w WHERE s.id = w.session_id), \
         audited AS (INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
                     SELECT w.now, 'refresh', w.user_id, u.username, w.actor_id, w.ip, w.user_agent, w.detail \
                     FROM w LEFT JOIN users u ON u.id = w.user_id) \
         SELECT COUNT(*) FROM spent",
        rows.join(", ")
    )
}

/// `sql` with every `$N` raised by `offset`.
fn numbered(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        if ch == '$' {
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.push_str(&(n + offset).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_raises_every_parameter() {
        assert_eq!(numbered("a = $1, b = $11; c = $2", 11), "a = $12, b = $22; c = $13");
        assert!(sqlite_batch(2).contains("; UPDATE refresh_tokens SET used_at = $12, used_ip = $20"));
        assert!(sqlite_batch(2).ends_with(
            "VALUES ($12, 'refresh', $18, (SELECT username FROM users WHERE id = $18), $19, $20, $21, $22)"
        ));
        assert!(postgres_batch(2).contains("($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"));
    }
}
