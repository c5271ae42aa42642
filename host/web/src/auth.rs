//! Who is asking: sign-up, log-in and log-out, passwords (argon2id), sessions (a random token in an HttpOnly,
//! SameSite=Lax cookie; only its SHA-256 is stored), CSRF tokens, and where sign-up and log-in meet the rate limits
//! of `limits`.
//!
//! Owns the `sessions` table and the [`Who`] extractor every handler starts from. Does not decide what anyone may
//! see: that is `forum::visibility`, asked on every request (access is never cached here, so a change takes effect
//! on the next request).

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::WebError;
use cadre_core::forum::visibility::Viewer;
use cadre_core::forum::{MemberId, members};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cadre_session";
/// The cookie that carries an anonymous visitor's CSRF token (double submit: the log-in and sign-up forms repeat it).
pub const PRE_COOKIE: &str = "cadre_pre";
/// How long a session lasts.
const SESSION_MS: i64 = 30 * 86_400_000;
/// Names signed up on the web are 3 to [`MAX_NAME`](cadre_core::forum::names::MAX_NAME) letters, digits, `-` or `_`
/// (they appear in URLs). The upper end is the forum's one limit, so every member the forum can hold can log in.
pub const NAME_LEN: std::ops::RangeInclusive<usize> = 3..=cadre_core::forum::names::MAX_NAME;
/// Passwords are 8 to 128 bytes (argon2 would take more; the upper bound keeps hashing cheap to refuse).
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=128;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A random token: 32 bytes from the OS, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal in time that does not depend on where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A logged-in member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Id.
    pub id: MemberId,
    /// Name.
    pub name: String,
    /// Whether they moderate.
    pub moderator: bool,
    /// Their session's CSRF token.
    pub csrf: String,
}

/// Who sent the request: a member (by session cookie) or an anonymous visitor (with their pre-session token).
#[derive(Debug, Clone)]
pub struct Who {
    /// The member, when logged in.
    pub member: Option<Member>,
    /// An anonymous visitor's CSRF token (from the `cadre_pre` cookie, or new).
    pub pre: String,
    /// True when `pre` is new and the response must set the cookie.
    pub fresh_pre: bool,
}

impl Who {
    /// The viewer, for visibility.
    pub fn viewer(&self) -> Viewer {
        self.member.as_ref().map_or(Viewer::Anonymous, |m| Viewer::Member(m.id))
    }

    /// The member, or "log in first".
    pub fn member(&self) -> Result<&Member, WebError> {
        self.member.as_ref().ok_or(WebError::LoginRequired)
    }

    /// A moderator, or not found (the panel does not exist for anyone else).
    pub fn moderator(&self) -> Result<&Member, WebError> {
        self.member.as_ref().filter(|m| m.moderator).ok_or(WebError::NotFound)
    }

    /// The token the forms of this page carry.
    pub fn form_token(&self) -> &str {
        self.member.as_ref().map_or(&self.pre, |m| &m.csrf)
    }

    /// Refuse a state-changing request whose token is not this visitor's.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        let expected = self.form_token();
        if token.is_empty() || !same(token, expected) || (self.member.is_none() && self.fresh_pre) {
            return Err(WebError::Csrf);
        }
        Ok(())
    }

    /// The `Set-Cookie` value for a fresh pre-session token, if one is needed.
    pub fn pre_cookie(&self, cookies: CookiePolicy) -> Option<String> {
        self.fresh_pre.then(|| cookies.pre(&self.pre))
    }
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        // A token is 64 hex digits; anything else is not ours.
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromRequestParts<AppState> for Who {
    /// The error as the API or the pages answer it.
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Who, Self::Rejection> {
        use axum::response::IntoResponse;
        let api = parts.uri.path().starts_with("/api/");
        Who::read(parts, state)
            .await
            .map_err(|error| if api { super::error::ApiError(error).into_response() } else { error.into_response() })
    }
}

impl Who {
    async fn read(parts: &Parts, state: &AppState) -> Result<Who, WebError> {
        let (pre, fresh_pre) = match cookie(parts, PRE_COOKIE) {
            Some(pre) => (pre.to_owned(), false),
            None => (random_token(), true),
        };
        let member = match cookie(parts, SESSION_COOKIE) {
            Some(token) => {
                let hash = token_hash(token);
                state.forum.read(move |conn| session_member(conn, &hash, now_ms())).await?
            }
            None => None,
        };
        Ok(Who { member, pre, fresh_pre })
    }
}

fn session_member(conn: &Connection, hash: &str, now: i64) -> rusqlite::Result<Option<Member>> {
    conn.prepare_cached(
        "SELECT m.id, m.name, m.is_moderator, s.csrf FROM sessions s JOIN members m ON m.id = s.member_id \
         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
    )?
    .query_row(params![hash, now], |row| {
        Ok(Member { id: row.get::<_, i64>(0)? as u64, name: row.get(1)?, moderator: row.get(2)?, csrf: row.get(3)? })
    })
    .optional()
}

/// Open a session for a member: returns the cookie's token and the session's CSRF token.
pub fn open_session(conn: &Connection, member: MemberId, now: i64) -> rusqlite::Result<(String, String)> {
    let (token, csrf) = (random_token(), random_token());
    // Expired sessions are dropped here, so the table holds only live ones.
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?;
    conn.execute(
        "INSERT INTO sessions (token_hash, member_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash(&token), member as i64, csrf, now, now + SESSION_MS],
    )?;
    Ok((token, csrf))
}

/// How the cookies Cadre sets are marked. Every `Set-Cookie` value is built here, so a deployment's choice (the
/// host setting `[web] secure-cookies`) reaches all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CookiePolicy {
    /// Add `Secure`: browsers then send the cookie only over HTTPS (behind a TLS proxy).
    pub secure: bool,
}

impl CookiePolicy {
    fn cookie(self, name: &str, value: &str, same_site: &str, max_age: Option<i64>) -> String {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
        if let Some(seconds) = max_age {
            cookie.push_str(&format!("; Max-Age={seconds}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// The `Set-Cookie` value for a session token. `Lax`, so that following a link to the forum from elsewhere
    /// arrives logged in; writes are guarded by the CSRF token, not by the cookie.
    pub fn session(self, token: &str) -> String {
        self.cookie(SESSION_COOKIE, token, "Lax", Some(SESSION_MS / 1000))
    }

    /// The `Set-Cookie` value that ends a session in the browser.
    pub fn clear_session(self) -> String {
        self.cookie(SESSION_COOKIE, "", "Lax", Some(0))
    }

    /// The `Set-Cookie` value for an anonymous visitor's pre-session token (a browser session cookie: no max-age).
    pub fn pre(self, token: &str) -> String {
        self.cookie(PRE_COOKIE, token, "Strict", None)
    }
}

/// End every session of the cookie's token (log out).
pub async fn close_session(state: &AppState, member: &Member) -> Result<(), WebError> {
    let csrf = member.csrf.clone();
    state.forum.run(move |forum| forum.conn().execute("DELETE FROM sessions WHERE csrf = ?1", params![csrf])).await??;
    Ok(())
}

/// Hash a password with argon2id and a random salt (a PHC string).
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| WebError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| WebError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| WebError::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn check_credentials(name: &str, password: &str) -> Result<(), WebError> {
    if !NAME_LEN.contains(&name.chars().count())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(WebError::Invalid(format!(
            "a name has {} to {} letters, digits, '-' or '_'",
            NAME_LEN.start(),
            NAME_LEN.end()
        )));
    }
    if let Some(problem) = cadre_core::forum::names::name_problem(name) {
        return Err(WebError::Invalid(problem));
    }
    if !PASSWORD_LEN.contains(&password.len()) {
        return Err(WebError::Invalid(format!(
            "a password has {} to {} characters",
            PASSWORD_LEN.start(),
            PASSWORD_LEN.end()
        )));
    }
    Ok(())
}

/// Sign up: register the member with a hashed password and open a session. Returns the session token.
///
/// Limited per client address ([`limits::SIGNUPS_PER_ADDRESS`](super::limits::SIGNUPS_PER_ADDRESS)): a refused
/// address is answered before anything is checked. What counts is an account created; a refused name or password
/// costs the client nothing (and the server no hashing: the name is checked before the password is hashed).
pub async fn sign_up(
    state: &AppState,
    client: IpAddr,
    name: &str,
    password: &str,
) -> Result<(String, String), WebError> {
    let limiter = &state.limits.signup_addresses;
    let refused = |wait| WebError::rate_limited("too many sign-ups from this address", wait);
    let now = now_ms();
    // Before the checks, so that a limited address is refused the same way whatever it sends.
    limiter.check(&client, now).map_err(refused)?;
    check_credentials(name, password)?;
    let lookup = name.to_owned();
    let taken = state.forum.run(move |forum| cadre_core::forum::names::taken_by(forum.conn(), &lookup)).await??;
    if let Some(holder) = taken {
        return Err(WebError::Conflict(cadre_core::forum::names::taken_message(name, &holder)));
    }
    limiter.take(&client, now).map_err(refused)?;
    let created = create_account(state, name, password, now).await;
    if created.is_err() {
        limiter.give_back(&client, now);
    }
    created
}

async fn create_account(state: &AppState, name: &str, password: &str, now: i64) -> Result<(String, String), WebError> {
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let name = name.to_owned();
    state
        .forum
        .run(move |forum| -> Result<(String, String), WebError> {
            let id = forum.register(&name, now, false)?;
            members::set_password_hash(forum.conn(), id, &hash)?;
            Ok(open_session(forum.conn(), id, now)?)
        })
        .await?
}

/// Log in: check the password and open a session. Every failure says the same.
///
/// Limited per name from one address ([`limits::FAILED_LOGINS_PER_NAME`](super::limits::FAILED_LOGINS_PER_NAME))
/// and per client address ([`limits::FAILED_LOGINS_PER_ADDRESS`](super::limits::FAILED_LOGINS_PER_ADDRESS)); a
/// limited attempt is refused without checking the password. Failures at one name from every address together
/// never refuse (that would let anyone lock a member out): past
/// [`limits::FAILED_LOGINS_PER_NAME_BEFORE_SLOW`](super::limits::FAILED_LOGINS_PER_NAME_BEFORE_SLOW) each attempt
/// waits [`RateLimits::slow_login`](super::limits::RateLimits::slow_login) first. Each attempt counts as a failure
/// from the start and is given back when the password is right, so concurrent guesses cannot all slip past the
/// limit while the hashes are checked.
pub async fn log_in(
    state: &AppState,
    client: IpAddr,
    name: &str,
    password: &str,
) -> Result<(String, String), WebError> {
    let limits = &state.limits;
    // Few attempts from one address are counted ahead of their outcome at once (see `LoginGates`).
    let _turn = limits.login_gates.turn(client).await;
    let now = now_ms();
    // A name that cannot log in (empty, or longer than a name can be) is not remembered: a flood of long names
    // would fill the limiters with large keys. The address limit still counts it. (Shorter names than sign-up
    // allows can exist, registered on the command line, and are protected like any other.)
    let name_key =
        (!name.is_empty() && name.chars().count() <= *NAME_LEN.end()).then(|| cadre_core::forum::names::name_key(name));
    if let Some(key) = &name_key {
        limits
            .login_names
            .take(&(key.clone(), client), now)
            .map_err(|wait| WebError::rate_limited("too many failed log-ins for this name from this address", wait))?;
    }
    if let Err(wait) = limits.login_addresses.take(&client, now) {
        if let Some(key) = &name_key {
            limits.login_names.give_back(&(key.clone(), client), now);
        }
        return Err(WebError::rate_limited("too many failed log-ins from this address", wait));
    }
    // Counted only when it is room (the limiter refuses to count past its maximum): past it, the slow path.
    let counted_everywhere = name_key.as_ref().map(|key| limits.login_names_everywhere.take(key, now).is_ok());
    if counted_everywhere == Some(false) {
        tokio::time::sleep(limits.slow_login).await;
    }
    let opened = check_password(state, name, password, now).await;
    if opened.is_ok() {
        if let Some(key) = &name_key {
            limits.login_names.give_back(&(key.clone(), client), now);
            if counted_everywhere == Some(true) {
                limits.login_names_everywhere.give_back(key, now);
            }
        }
        limits.login_addresses.give_back(&client, now);
    }
    opened
}

async fn check_password(state: &AppState, name: &str, password: &str, now: i64) -> Result<(String, String), WebError> {
    if password.len() > *PASSWORD_LEN.end() || name.chars().count() > *NAME_LEN.end() {
        return Err(WebError::BadCredentials);
    }
    let lookup = name.to_owned();
    // The exact name first (two members of an older database may share a key), then the key: `BOB` logs in as bob.
    let found: Option<(i64, Option<String>)> = state
        .forum
        .run(move |forum| {
            let conn = forum.conn();
            let row = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
            match conn
                .query_row("SELECT id, password_hash FROM members WHERE name = ?1", params![lookup], row)
                .optional()?
            {
                Some(found) => Ok::<_, rusqlite::Error>(Some(found)),
                None => conn
                    .query_row(
                        "SELECT id, password_hash FROM members WHERE name_key = ?1",
                        params![cadre_core::forum::names::name_key(&lookup)],
                        row,
                    )
                    .optional(),
            }
        })
        .await??;
    let password = password.to_owned();
    let verified = match found {
        Some((id, Some(hash))) => tokio::task::spawn_blocking(move || verify_password(&password, &hash).then_some(id))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?,
        _ => None,
    };
    let id = verified.ok_or(WebError::BadCredentials)?;
    Ok(state.forum.run(move |forum| open_session(forum.conn(), id as u64, now)).await??)
}

/// Set (or replace) a member's password (demo logins, tests).
pub fn set_password(conn: &Connection, member: MemberId, password: &str) -> Result<(), WebError> {
    let hash = hash_password(password)?;
    members::set_password_hash(conn, member, &hash)?;
    Ok(())
}
