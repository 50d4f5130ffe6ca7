//! [`TtlCache`]: a small read-through cache for the lookups every API request makes
//! (the key behind a bearer token, the sending domain). At thousands of requests per
//! second each lookup skipped is a database round trip saved. Entries live for a
//! second; whatever changes them on this node clears the cache at once, and other
//! nodes of a cluster see the change within the second.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(1);
/// Most entries kept; a full cache starts over rather than tracking recency.
const CAPACITY: usize = 10_000;

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    /// The cached value, if it is younger than [`TTL`].
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().expect("cache lock");
        entries.get(key).filter(|(_, at)| at.elapsed() < TTL).map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets everything (after a change on this node).
    pub fn clear(&self) {
        self.entries.lock().expect("cache lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_clear() {
        let cache = TtlCache::default();
        cache.put("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        assert_eq!(cache.get(&"b"), None);
        cache.clear();
        assert_eq!(cache.get(&"a"), None);
        cache.put("a", 2);
        std::thread::sleep(TTL + Duration::from_millis(20));
        assert_eq!(cache.get(&"a"), None, "stale entries are not served");
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = TtlCache::default();
        for n in 0..CAPACITY {
            cache.put(n, n);
        }
        cache.put(CAPACITY, CAPACITY);
        assert_eq!(cache.get(&0), None);
        assert_eq!(cache.get(&CAPACITY), Some(CAPACITY));
    }
}
