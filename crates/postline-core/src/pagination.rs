//! The contract's cursor pagination: `limit` (1–100, default 20) and at most one of
//! `after` / `before`, each the id of an item in the list; `has_more` says whether
//! another page exists in the direction of travel.

use crate::{Error, Result};

/// Default page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page the contract allows.
pub const MAX_LIMIT: u32 = 100;

/// Which way a page is read from its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// From the newest item.
    Start,
    /// Items older than the one with this id.
    After(String),
    /// Items newer than the one with this id.
    Before(String),
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Cursor,
}

impl PageRequest {
    /// Validates raw query parameters.
    pub fn parse(limit: Option<&str>, after: Option<&str>, before: Option<&str>) -> Result<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::parameter(format!(
                        "The `limit` parameter must be an integer between 1 and {MAX_LIMIT}."
                    )));
                }
            },
        };
        let cursor = match (after, before) {
            (Some(_), Some(_)) => {
                return Err(Error::parameter("The `after` and `before` parameters cannot be used together."));
            }
            (Some(a), None) => Cursor::After(cursor_id(a, "after")?),
            (None, Some(b)) => Cursor::Before(cursor_id(b, "before")?),
            (None, None) => Cursor::Start,
        };
        Ok(PageRequest { limit, cursor })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, cursor: Cursor::Start }
    }
}

fn cursor_id(raw: &str, name: &str) -> Result<String> {
    uuid::Uuid::parse_str(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::parameter(format!("The `{name}` parameter must be a valid id.")))
}

/// One page of results, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Maps each item, keeping `has_more`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), has_more: self.has_more }
    }
}
