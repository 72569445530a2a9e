//! Envelope encryption: a master key (read from a file) wraps one data key per
//! (connection, environment); data keys seal record payloads with AES-256-GCM
//! and associated data that binds each ciphertext to the record it belongs to.
//! Pure: the only I/O is reading the master key file.

mod aad;
mod data_key;
mod key_ring;
mod master_key;

pub use aad::RecordAad;
pub use data_key::{DataKey, KeyId, Sealed, WrappedDataKey};
pub use key_ring::KeyRing;
pub use master_key::{MasterKey, MasterKeyId};

/// What went wrong with keys or ciphertext, and what to do about it. Messages
/// never carry key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "cannot read the master key file {path}: {cause}. Point --master-key-file (or SHOPSYNC_MASTER_KEY_FILE) at the mounted key Secret, or create one with `shopsync keygen --out FILE`"
    )]
    MasterKeyUnreadable { path: String, cause: String },
    #[error(
        "the master key file {path} holds {found} bytes that are neither 32 raw bytes nor base64 of 32 bytes; create a valid one with `shopsync keygen --out FILE`"
    )]
    MasterKeyMalformed { path: String, found: usize },
    #[error(
        "data key {key_id} does not unwrap with master key {used} (it was wrapped by master key {wrapped_by}); start with the master key file that wrapped it, or re-wrap the data keys with the old key before switching"
    )]
    UnwrapFailed {
        key_id: KeyId,
        used: MasterKeyId,
        wrapped_by: String,
    },
    #[error(
        "record {recordset}/{shopify_id} failed its integrity check under data key {key_id}: the ciphertext is corrupt or was copied from another record, recordset or connection"
    )]
    Integrity {
        recordset: String,
        shopify_id: i64,
        key_id: KeyId,
    },
    #[error(
        "data key {key_id} is not in this reader's key ring (environment {environment}): it belongs to another environment or connection, or it was destroyed"
    )]
    UnknownKey { key_id: KeyId, environment: String },
    #[error(
        "the stored data key {key_id} is malformed ({len} bytes); the row was altered outside shopsync"
    )]
    WrappedKeyMalformed { key_id: KeyId, len: usize },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("encryption failed: the payload exceeds AES-GCM's size limit")]
    TooLarge,
}
