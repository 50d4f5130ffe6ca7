//! Dashboard users and their sessions.
//!
//! A user signs in with email and password (Argon2id, hashed off the async
//! runtime), belongs to one team and is an `admin` (manages API keys and downloads
//! exports, as the reference says) or a `member`. A session is a random token kept
//! only as its SHA-256 (like API keys), with its own CSRF token; it lasts
//! [`SESSION_TTL`] from sign-in. Email addresses are unique across the installation,
//! so signing in needs no team name.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use chrono::Duration;
use rand::{Rng, distributions::Alphanumeric};

use crate::{
    Error, Postline, Result,
    api_keys::hash_token,
    clock::Timestamp,
    emails::address::valid_address,
    ids::{TeamId, UserId},
};

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::days(7);
/// Shortest password accepted (NIST SP 800-63B asks for at least 8; a dashboard that
/// can read every email of a team deserves more).
pub const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 256;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(Error::value(format!("The role must be `admin` or `member`, not `{other}`."))),
        }
    }
}

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub team_id: TeamId,
    /// Lower-cased.
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// Argon2id, PHC string format.
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie's token.
    pub token_hash: String,
    pub user_id: UserId,
    /// Sent in every form; a request changing anything must echo it.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A signed-in user with their session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user: User,
    pub session: Session,
}

fn random(length: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(length).map(char::from).collect()
}

/// Hashes a password with Argon2id and a fresh salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(Error::value(format!("The password must have at least {MIN_PASSWORD} characters.")));
    }
    if length > MAX_PASSWORD {
        return Err(Error::value(format!("The password must have at most {MAX_PASSWORD} characters.")));
    }
    Ok(())
}

/// A random password for a first admin (printed once).
pub fn generate_password() -> String {
    random(20)
}

/// A hash to verify against when the address is unknown, so a wrong address takes as
/// long as a wrong password and sign-in does not reveal who has an account.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for timing").unwrap_or_default())
}

impl Postline {
    /// Creates a user in `team_id`. The address must be free in the installation.
    pub async fn create_user(
        &self,
        team_id: TeamId,
        email: &str,
        password: &str,
        role: Role,
        name: Option<String>,
    ) -> Result<User> {
        let email = email.trim().to_lowercase();
        if !valid_address(&email) {
            return Err(Error::value(format!("`{email}` is not a valid email address.")));
        }
        check_password(password)?;
        let password = password.to_string();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hashing task: {e}")))??;
        let user = User { id: UserId::new(), team_id, email, name, role, password_hash, created_at: self.clock.now() };
        if !self.store.insert_user(&user).await? {
            return Err(Error::Conflict(format!("A user with the address `{}` already exists.", user.email)));
        }
        Ok(user)
    }

    /// Signs in: the user and a new session's token (for the cookie), or `None` for a
    /// wrong address or password (the caller cannot tell which).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Option<(SignedIn, String)>> {
        let user = self.store.user_by_email(&email.trim().to_lowercase()).await?;
        let hash = user.as_ref().map_or_else(|| decoy_hash().to_string(), |u| u.password_hash.clone());
        let password = password.chars().take(MAX_PASSWORD).collect::<String>();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::Internal(format!("password check task: {e}")))?;
        let Some(user) = user.filter(|_| matches) else { return Ok(None) };
        let token = format!("pls_{}", random(40));
        let now = self.clock.now();
        let session = Session {
            token_hash: hash_token(&token),
            user_id: user.id,
            csrf: random(32),
            created_at: now,
            expires_at: now + SESSION_TTL,
        };
        self.store.insert_session(&session).await?;
        Ok(Some((SignedIn { user, session }, token)))
    }

    /// The signed-in user a session cookie's token names, if the session is live.
    pub async fn session_user(&self, token: &str) -> Result<Option<SignedIn>> {
        if token.len() > 128 {
            return Ok(None);
        }
        let Some((session, user)) = self.store.session(&hash_token(token)).await? else { return Ok(None) };
        if session.expires_at <= self.clock.now() {
            self.store.delete_session(&session.token_hash).await?;
            return Ok(None);
        }
        Ok(Some(SignedIn { user, session }))
    }

    /// Ends a session.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        self.store.delete_session(&hash_token(token)).await
    }

    /// The team's users, oldest first.
    pub async fn list_users(&self, team_id: TeamId) -> Result<Vec<User>> {
        self.store.list_users(team_id).await
    }

    /// Whether the installation has any user yet (first start creates an admin).
    pub async fn has_users(&self) -> Result<bool> {
        self.store.count_users().await.map(|n| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("twelve chars").is_ok());
        assert_eq!(generate_password().len(), 20);
    }
}
