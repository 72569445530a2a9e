//! Data keys: random AES-256 keys, one active per (connection, environment),
//! stored only wrapped by the master key. They seal record payloads.

use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use aes_gcm::{Aes256Gcm, Key};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::aad::data_key_aad;
use super::{CryptoError, MasterKey, RecordAad};

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// Identifies a data key; stored next to every record it sealed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct KeyId(Uuid);

impl KeyId {
    #[allow(clippy::new_without_default)]
    pub fn new() -> KeyId {
        KeyId(Uuid::new_v4())
    }

    pub fn from_uuid(id: Uuid) -> KeyId {
        KeyId(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A data key in the clear, in memory only. Zeroized on drop (the cipher's
/// key schedule too, via aes-gcm's `zeroize` feature); Debug shows only the id.
pub struct DataKey {
    id: KeyId,
    material: Zeroizing<[u8; KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A data key sealed by the master key: nonce followed by ciphertext and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    pub bytes: Vec<u8>,
    pub master_key_id: String,
}

/// A sealed record payload.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
}

impl DataKey {
    /// A fresh random key with a fresh id.
    pub fn generate() -> Result<DataKey, CryptoError> {
        let material = Zeroizing::new(
            <[u8; KEY_LEN]>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))?,
        );
        Ok(DataKey::from_material(KeyId::new(), material))
    }

    fn from_material(id: KeyId, material: Zeroizing<[u8; KEY_LEN]>) -> DataKey {
        let key: &Key<Aes256Gcm> = (&*material).into();
        let cipher = Aes256Gcm::new(key);
        DataKey {
            id,
            material,
            cipher,
        }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Seals this key under the master key, bound to its id, connection and
    /// environment.
    pub fn wrap(
        &self,
        master: &MasterKey,
        connection_uid: &str,
        environment: &str,
    ) -> Result<WrappedDataKey, CryptoError> {
        let nonce = fresh_nonce()?;
        let aad = data_key_aad(self.id, connection_uid, environment);
        let sealed = master
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &self.material[..],
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::TooLarge)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(WrappedDataKey {
            bytes,
            master_key_id: master.id().to_string(),
        })
    }

    /// Opens a wrapped key; fails naming the key id when the master key,
    /// connection or environment is not the one it was wrapped for.
    pub fn unwrap(
        id: KeyId,
        wrapped: &WrappedDataKey,
        master: &MasterKey,
        connection_uid: &str,
        environment: &str,
    ) -> Result<DataKey, CryptoError> {
        let expected = NONCE_LEN + KEY_LEN + 16;
        if wrapped.bytes.len() != expected {
            return Err(CryptoError::WrappedKeyMalformed {
                key_id: id,
                len: wrapped.bytes.len(),
            });
        }
        let (nonce, sealed) = wrapped.bytes.split_at(NONCE_LEN);
        let nonce =
            Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| CryptoError::WrappedKeyMalformed {
                key_id: id,
                len: wrapped.bytes.len(),
            })?;
        let aad = data_key_aad(id, connection_uid, environment);
        let opened = Zeroizing::new(
            master
                .cipher()
                .decrypt(
                    &nonce,
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| CryptoError::UnwrapFailed {
                    key_id: id,
                    used: master.id().clone(),
                    wrapped_by: wrapped.master_key_id.clone(),
                })?,
        );
        let mut material = Zeroizing::new([0u8; KEY_LEN]);
        material.copy_from_slice(&opened);
        Ok(DataKey::from_material(id, material))
    }

    /// Encrypts one record payload with a fresh random nonce.
    pub fn seal(&self, aad: &RecordAad<'_>, plaintext: &[u8]) -> Result<Sealed, CryptoError> {
        let nonce = fresh_nonce()?;
        let mut aad_bytes = Vec::with_capacity(96);
        aad.encode_into(&mut aad_bytes);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad_bytes,
                },
            )
            .map_err(|_| CryptoError::TooLarge)?;
        Ok(Sealed {
            nonce: nonce.into(),
            ciphertext,
        })
    }

    /// Decrypts one record payload; any mismatch of ciphertext, nonce or
    /// associated data is an integrity error, never garbage.
    pub fn open(
        &self,
        aad: &RecordAad<'_>,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let integrity = || CryptoError::Integrity {
            recordset: aad.recordset.to_owned(),
            shopify_id: aad.shopify_id,
            key_id: aad.key_id,
        };
        if aad.key_id != self.id {
            return Err(integrity());
        }
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| integrity())?;
        let mut aad_bytes = Vec::with_capacity(96);
        aad.encode_into(&mut aad_bytes);
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad_bytes,
                },
            )
            .map_err(|_| integrity())
    }
}

fn fresh_nonce() -> Result<Nonce<Aes256Gcm>, CryptoError> {
    Nonce::<Aes256Gcm>::try_generate().map_err(|e| CryptoError::Random(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(key: &DataKey, id: i64) -> RecordAad<'static> {
        RecordAad {
            connection_uid: "uid-1",
            recordset: "orders",
            shopify_id: id,
            key_id: key.id(),
        }
    }

    #[test]
    fn seal_then_open_round_trips_with_fresh_nonces() {
        let key = DataKey::generate().unwrap();
        let a = key.seal(&aad(&key, 1), b"{\"name\":\"#1001\"}").unwrap();
        let b = key.seal(&aad(&key, 1), b"{\"name\":\"#1001\"}").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        let opened = key.open(&aad(&key, 1), &a.nonce, &a.ciphertext).unwrap();
        assert_eq!(opened, b"{\"name\":\"#1001\"}");
    }

    #[test]
    fn another_id_or_flipped_bit_is_an_integrity_error() {
        let key = DataKey::generate().unwrap();
        let mut sealed = key.seal(&aad(&key, 1), b"payload").unwrap();
        let moved = key.open(&aad(&key, 2), &sealed.nonce, &sealed.ciphertext);
        assert!(matches!(
            moved,
            Err(CryptoError::Integrity { shopify_id: 2, .. })
        ));
        sealed.ciphertext[0] ^= 1;
        let flipped = key.open(&aad(&key, 1), &sealed.nonce, &sealed.ciphertext);
        assert!(matches!(flipped, Err(CryptoError::Integrity { .. })));
    }

    #[test]
    fn wrap_binds_master_key_connection_and_environment() {
        let master = MasterKey::generate().unwrap();
        let other = MasterKey::generate().unwrap();
        let key = DataKey::generate().unwrap();
        let wrapped = key.wrap(&master, "uid-1", "production").unwrap();
        assert_eq!(wrapped.master_key_id, master.id().to_string());

        let back = DataKey::unwrap(key.id(), &wrapped, &master, "uid-1", "production").unwrap();
        let sealed = key.seal(&aad(&key, 5), b"x").unwrap();
        assert_eq!(
            back.open(&aad(&key, 5), &sealed.nonce, &sealed.ciphertext)
                .unwrap(),
            b"x"
        );

        let wrong_master = DataKey::unwrap(key.id(), &wrapped, &other, "uid-1", "production");
        match wrong_master {
            Err(err @ CryptoError::UnwrapFailed { .. }) => {
                assert!(err.to_string().contains(&key.id().to_string()), "{err}");
            }
            other => panic!("expected UnwrapFailed, got {other:?}"),
        }
        assert!(DataKey::unwrap(key.id(), &wrapped, &master, "uid-1", "staging").is_err());
        assert!(DataKey::unwrap(key.id(), &wrapped, &master, "uid-2", "production").is_err());
        assert!(DataKey::unwrap(KeyId::new(), &wrapped, &master, "uid-1", "production").is_err());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = DataKey::generate().unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(&format!("{:?}", key.id())));
        assert!(!debug.contains("material"), "{debug}");
    }
}
