//! The master key: 32 bytes from a file (raw or base64), never from a
//! command-line argument. Its id is a fingerprint, so the database can record
//! which master key wrapped each data key without holding anything secret.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::CryptoError;

pub const MASTER_KEY_LEN: usize = 32;

/// The key that wraps data keys. Zeroized on drop; Debug shows only its id.
pub struct MasterKey {
    cipher: Aes256Gcm,
    id: MasterKeyId,
}

/// A public fingerprint of a master key (16 hex digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MasterKeyId(String);

impl MasterKeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MasterKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Result<MasterKey, CryptoError> {
        let bytes = Zeroizing::new(
            <[u8; MASTER_KEY_LEN]>::try_generate()
                .map_err(|e| CryptoError::Random(e.to_string()))?,
        );
        Ok(MasterKey::from_bytes(&bytes))
    }

    /// Reads a key file: exactly 32 raw bytes, or base64 of 32 bytes with
    /// optional surrounding whitespace (how a Kubernetes Secret usually holds it).
    pub fn load(path: &Path) -> Result<MasterKey, CryptoError> {
        let contents =
            Zeroizing::new(
                std::fs::read(path).map_err(|e| CryptoError::MasterKeyUnreadable {
                    path: path.display().to_string(),
                    cause: e.to_string(),
                })?,
            );
        MasterKey::parse(&contents).ok_or_else(|| CryptoError::MasterKeyMalformed {
            path: path.display().to_string(),
            found: contents.len(),
        })
    }

    /// Parses file contents; `None` when they are neither form.
    pub fn parse(contents: &[u8]) -> Option<MasterKey> {
        if contents.len() == MASTER_KEY_LEN {
            let mut raw = Zeroizing::new([0u8; MASTER_KEY_LEN]);
            raw.copy_from_slice(contents);
            return Some(MasterKey::from_bytes(&raw));
        }
        let text = std::str::from_utf8(contents).ok()?.trim();
        let decoded = Zeroizing::new(STANDARD.decode(text).ok()?);
        if decoded.len() != MASTER_KEY_LEN {
            return None;
        }
        let mut raw = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        raw.copy_from_slice(&decoded);
        Some(MasterKey::from_bytes(&raw))
    }

    fn from_bytes(bytes: &[u8; MASTER_KEY_LEN]) -> MasterKey {
        let key: &Key<Aes256Gcm> = bytes.into();
        let cipher = Aes256Gcm::new(key);
        let id = fingerprint(&cipher);
        MasterKey { cipher, id }
    }

    /// The base64 text `shopsync keygen` writes; the caller must not log it.
    pub fn generate_file_contents() -> Result<(Zeroizing<String>, MasterKeyId), CryptoError> {
        let bytes = Zeroizing::new(
            <[u8; MASTER_KEY_LEN]>::try_generate()
                .map_err(|e| CryptoError::Random(e.to_string()))?,
        );
        let id = MasterKey::from_bytes(&bytes).id;
        Ok((Zeroizing::new(format!("{}\n", STANDARD.encode(*bytes))), id))
    }

    pub fn id(&self) -> &MasterKeyId {
        &self.id
    }

    pub(super) fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }
}

/// A key check value: the GCM tag of an empty message under a fixed nonce. It
/// identifies the key without revealing it (recovering the key from it means
/// breaking AES).
fn fingerprint(cipher: &Aes256Gcm) -> MasterKeyId {
    let nonce = Nonce::from([0u8; 12]);
    let tag = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &[],
                aad: b"shopsync/master-key-id/v1",
            },
        )
        .unwrap_or_default();
    let hex: String = tag.iter().take(8).map(|b| format!("{b:02x}")).collect();
    MasterKeyId(format!("mk-{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_base64_forms_give_the_same_key() {
        let raw = [7u8; 32];
        let b64 = format!("  {}\n", STANDARD.encode(raw));
        let a = MasterKey::parse(&raw).unwrap();
        let b = MasterKey::parse(b64.as_bytes()).unwrap();
        assert_eq!(a.id(), b.id());
        assert!(a.id().as_str().starts_with("mk-"));
    }

    #[test]
    fn anything_else_is_refused() {
        assert!(MasterKey::parse(b"too short").is_none());
        assert!(MasterKey::parse(&[1u8; 31]).is_none());
        assert!(MasterKey::parse(STANDARD.encode([1u8; 16]).as_bytes()).is_none());
        assert!(MasterKey::parse(b"not base64 at all, and longer than 32 bytes!!").is_none());
    }

    #[test]
    fn different_keys_have_different_ids() {
        let a = MasterKey::generate().unwrap();
        let b = MasterKey::generate().unwrap();
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn debug_shows_only_the_id() {
        let key = MasterKey::parse(&[0xABu8; 32]).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(key.id().as_str()));
        assert!(!debug.to_lowercase().contains("abab"), "{debug}");
    }

    #[test]
    fn unreadable_and_malformed_files_say_what_to_do() {
        let missing = MasterKey::load(Path::new("/nonexistent/shopsync.key")).unwrap_err();
        assert!(missing.to_string().contains("shopsync keygen"), "{missing}");
        let dir = std::env::temp_dir().join(format!("shopsync-mk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.key");
        std::fs::write(&file, b"hello").unwrap();
        let bad = MasterKey::load(&file).unwrap_err().to_string();
        assert!(bad.contains("neither 32 raw bytes nor base64"), "{bad}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
