//! API keys: how callers authenticate and what they may do.
//!
//! A key is `re_` followed by 40 random base62 characters. Only its SHA-256 hash
//! is stored (a key this random needs no slow hash), so a key can be shown once
//! and never recovered. `full_access` keys may do anything within their team;
//! `sending_access` keys may only send, optionally from one domain only.

use rand::{Rng, distributions::Alphanumeric};
use sha2::{Digest, Sha256};

use crate::{
    Error, Invalid, Postline, Result,
    clock::Timestamp,
    ids::{ApiKeyId, DomainId, TeamId},
    pagination::{Page, PageRequest},
};

/// Longest key name the contract accepts.
pub const MAX_NAME_CHARS: usize = 50;
const TOKEN_PREFIX: &str = "re_";
const TOKEN_RANDOM_CHARS: usize = 40;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    FullAccess,
    SendingAccess,
}

impl Permission {
    /// The contract's name for this permission.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::FullAccess => "full_access",
            Permission::SendingAccess => "sending_access",
        }
    }

    /// Parses the contract's name, with `invalid_access` for anything else.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "full_access" => Ok(Permission::FullAccess),
            "sending_access" => Ok(Permission::SendingAccess),
            _ => Err(Error::invalid(
                Invalid::Access,
                "The `permission` must be either `full_access` or `sending_access`.",
            )),
        }
    }
}

/// A stored key (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub team_id: TeamId,
    pub name: String,
    pub permission: Permission,
    /// For `sending_access` keys: the only domain they may send from.
    pub domain_id: Option<DomainId>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A key as it is about to be stored: the record plus its token's hash.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub token_hash: String,
}

/// Who is calling: the result of authenticating a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub team_id: TeamId,
    pub key_id: ApiKeyId,
    pub permission: Permission,
    pub domain_id: Option<DomainId>,
}

impl Principal {
    /// Fails with `restricted_api_key` unless the key may manage resources.
    pub fn require_full_access(&self) -> Result<()> {
        match self.permission {
            Permission::FullAccess => Ok(()),
            Permission::SendingAccess => Err(Error::Restricted),
        }
    }
}

/// A fresh random token.
pub fn generate_token() -> String {
    let random: String =
        rand::thread_rng().sample_iter(&Alphanumeric).take(TOKEN_RANDOM_CHARS).map(char::from).collect();
    format!("{TOKEN_PREFIX}{random}")
}

/// The hash under which a token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a string has the shape of a key at all (so garbage never reaches the store).
pub fn looks_like_token(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
        && token.len() <= 128
        && token[TOKEN_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Validates a key name: present, not blank, at most 50 characters.
pub fn validate_name(name: Option<&str>) -> Result<String> {
    let name = name.ok_or_else(|| Error::missing("name"))?;
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::value("The `name` field must not be empty."));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(Error::value(format!("The `name` field must be at most {MAX_NAME_CHARS} characters.")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::value("The `name` field must not contain control characters."));
    }
    Ok(trimmed.to_string())
}

/// Input of `POST /api-keys`, already parsed from JSON.
#[derive(Debug, Clone, Default)]
pub struct CreateApiKey {
    pub name: Option<String>,
    pub permission: Option<String>,
    pub domain_id: Option<String>,
}

/// A created key: the only moment its token exists outside the caller.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: String,
}

impl Postline {
    /// Authenticates a bearer token. Unknown, malformed and deleted keys are all `None`.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let hash = hash_token(token);
        let key = match self.key_cache.get(&hash) {
            Some(key) => key,
            None => {
                let Some(key) = self.store.find_api_key_by_hash(&hash).await? else {
                    return Ok(None);
                };
                self.key_cache.put(hash.clone(), key.clone());
                key
            }
        };
        self.note_key_used(&hash, &key).await;
        Ok(Some(Principal {
            team_id: key.team_id,
            key_id: key.id,
            permission: key.permission,
            domain_id: key.domain_id,
        }))
    }

    /// Records `last_used_at`, at most once a minute per key so that a busy key
    /// does not turn every request into a write.
    async fn note_key_used(&self, hash: &str, key: &ApiKey) {
        let now = self.clock.now();
        let fresh = key.last_used_at.is_some_and(|at| now - at < chrono::Duration::seconds(60));
        if fresh {
            return;
        }
        match self.store.touch_api_key(key.id, now).await {
            Ok(()) => self.key_cache.put(hash.to_string(), ApiKey { last_used_at: Some(now), ..key.clone() }),
            Err(error) => tracing::warn!(%error, key = %key.id, "could not record last_used_at"),
        }
    }

    /// Creates a key for a team (used by the API and by `postline api-keys create`).
    pub async fn create_api_key(&self, team_id: TeamId, input: CreateApiKey) -> Result<CreatedApiKey> {
        let name = validate_name(input.name.as_deref())?;
        let (permission, domain_id) = self.access(team_id, &input).await?;
        let token = generate_token();
        let key = ApiKey {
            id: ApiKeyId::new(),
            team_id,
            name,
            permission,
            domain_id,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        self.store.insert_api_key(NewApiKey { key: key.clone(), token_hash: hash_token(&token) }).await?;
        Ok(CreatedApiKey { key, token })
    }

    /// The permission and domain `input` asks for, checked: a domain only with
    /// `sending_access`, and only one of the team's.
    async fn access(&self, team_id: TeamId, input: &CreateApiKey) -> Result<(Permission, Option<DomainId>)> {
        let permission = match input.permission.as_deref() {
            None => Permission::FullAccess,
            Some(raw) => Permission::parse(raw)?,
        };
        let domain_id = match (input.domain_id.as_deref(), permission) {
            (None, _) => None,
            (Some(_), Permission::FullAccess) => {
                return Err(Error::value(
                    "The `domain_id` field can only be used with the `sending_access` permission.",
                ));
            }
            (Some(raw), Permission::SendingAccess) => {
                let id = DomainId::parse(raw)?;
                if !self.store.domain_exists(team_id, id).await? {
                    return Err(Error::NotFound("Domain"));
                }
                Some(id)
            }
        };
        Ok((permission, domain_id))
    }

    /// One of the team's keys (never its token).
    pub async fn get_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<ApiKey> {
        self.store.get_api_key(team_id, id).await?.ok_or(Error::NotFound("API key"))
    }

    /// Changes a key's name, permission and domain (the dashboard's "Edit API Key"),
    /// effective at once on this node and within [`crate::cache::TTL`] elsewhere.
    pub async fn edit_api_key(&self, team_id: TeamId, id: ApiKeyId, input: CreateApiKey) -> Result<ApiKey> {
        let name = validate_name(input.name.as_deref())?;
        let (permission, domain_id) = self.access(team_id, &input).await?;
        let key = ApiKey { name, permission, domain_id, ..self.get_api_key(team_id, id).await? };
        if !self.store.update_api_key(&key).await? {
            return Err(Error::NotFound("API key"));
        }
        self.key_cache.clear();
        Ok(key)
    }

    /// Lists a team's keys, newest first.
    pub async fn list_api_keys(&self, team_id: TeamId, page: PageRequest) -> Result<Page<ApiKey>> {
        self.store.list_api_keys(team_id, &page).await
    }

    /// Renames a key.
    pub async fn rename_api_key(&self, team_id: TeamId, id: ApiKeyId, name: Option<&str>) -> Result<()> {
        let name = validate_name(name)?;
        let renamed = self.store.rename_api_key(team_id, id, &name).await?;
        self.key_cache.clear();
        if renamed { Ok(()) } else { Err(Error::NotFound("API key")) }
    }

    /// Deletes a key; it stops authenticating at once on this node, and within
    /// [`crate::cache::TTL`] on the other nodes of a cluster.
    pub async fn delete_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<()> {
        let deleted = self.store.delete_api_key(team_id, id).await?;
        self.key_cache.clear();
        if deleted { Ok(()) } else { Err(Error::NotFound("API key")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn hashes_do_not_reveal_the_token() {
        let token = generate_token();
        let hash = hash_token(&token);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token[3..]));
        assert_eq!(hash, hash_token(&token));
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(validate_name(Some("  prod  ")).unwrap(), "prod");
        assert!(matches!(validate_name(None), Err(Error::Invalid { kind: Invalid::MissingField, .. })));
        assert!(validate_name(Some("")).is_err());
        assert!(validate_name(Some(&"x".repeat(51))).is_err());
        assert!(validate_name(Some(&"é".repeat(50))).is_ok());
    }

    #[test]
    fn garbage_is_not_a_token() {
        assert!(!looks_like_token("Bearer"));
        assert!(!looks_like_token("re_has space"));
        assert!(!looks_like_token(&format!("re_{}", "a".repeat(200))));
    }
}
