//! The data keys one reader or writer holds: only those of one connection and
//! one environment, which is what makes environment protection hold even for
//! someone with database access to another environment's rows.

use std::collections::HashMap;

use super::{CryptoError, DataKey, KeyId};

/// Unwrapped data keys of one (connection, environment), plus which one new
/// writes use.
#[derive(Debug)]
pub struct KeyRing {
    environment: String,
    keys: HashMap<KeyId, DataKey>,
    active: Option<KeyId>,
}

impl KeyRing {
    pub fn new(environment: &str) -> KeyRing {
        KeyRing {
            environment: environment.to_owned(),
            keys: HashMap::new(),
            active: None,
        }
    }

    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// Adds a key; `active` marks it as the one new records are sealed with.
    pub fn insert(&mut self, key: DataKey, active: bool) {
        if active {
            self.active = Some(key.id());
        }
        self.keys.insert(key.id(), key);
    }

    pub fn get(&self, id: KeyId) -> Result<&DataKey, CryptoError> {
        self.keys.get(&id).ok_or_else(|| CryptoError::UnknownKey {
            key_id: id,
            environment: self.environment.clone(),
        })
    }

    pub fn active(&self) -> Option<&DataKey> {
        self.active.and_then(|id| self.keys.get(&id))
    }

    pub fn contains(&self, id: KeyId) -> bool {
        self.keys.contains_key(&id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_the_environment() {
        let mut ring = KeyRing::new("staging");
        let key = DataKey::generate().unwrap();
        let id = key.id();
        ring.insert(key, true);
        assert_eq!(ring.active().map(|k| k.id()), Some(id));
        let missing = KeyId::new();
        let err = ring.get(missing).unwrap_err().to_string();
        assert!(
            err.contains(&missing.to_string()) && err.contains("staging"),
            "{err}"
        );
    }
}
