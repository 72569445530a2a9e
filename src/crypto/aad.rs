//! Associated data for record ciphertexts. Binding connection, recordset,
//! Shopify id and key id means a ciphertext copied to any other row fails its
//! integrity check instead of decrypting as someone else's record.

use super::KeyId;

const RECORD_AAD_VERSION: &[u8] = b"shopsync/record/v1";

/// Where a record ciphertext belongs.
#[derive(Debug, Clone, Copy)]
pub struct RecordAad<'a> {
    /// The Kubernetes uid of the connection (stable for the resource's life).
    pub connection_uid: &'a str,
    pub recordset: &'a str,
    pub shopify_id: i64,
    pub key_id: KeyId,
}

impl RecordAad<'_> {
    /// Length-prefixed fields, so no two different tuples encode alike.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(RECORD_AAD_VERSION);
        put_field(out, self.connection_uid.as_bytes());
        put_field(out, self.recordset.as_bytes());
        out.extend_from_slice(&self.shopify_id.to_be_bytes());
        out.extend_from_slice(self.key_id.as_bytes());
    }
}

/// Associated data for a wrapped data key: the key id, connection and
/// environment, so a wrapped key moved to another connection or environment
/// no longer unwraps.
pub(super) fn data_key_aad(key_id: KeyId, connection_uid: &str, environment: &str) -> Vec<u8> {
    let mut out = b"shopsync/data-key/v1".to_vec();
    out.extend_from_slice(key_id.as_bytes());
    put_field(&mut out, connection_uid.as_bytes());
    put_field(&mut out, environment.as_bytes());
    out
}

fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(aad: RecordAad<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        aad.encode_into(&mut out);
        out
    }

    #[test]
    fn shifting_bytes_between_fields_changes_the_encoding() {
        let key_id = KeyId::new();
        let a = encode(RecordAad {
            connection_uid: "ab",
            recordset: "c",
            shopify_id: 1,
            key_id,
        });
        let b = encode(RecordAad {
            connection_uid: "a",
            recordset: "bc",
            shopify_id: 1,
            key_id,
        });
        assert_ne!(a, b);
    }

    #[test]
    fn data_key_aad_differs_by_environment() {
        let key_id = KeyId::new();
        assert_ne!(
            data_key_aad(key_id, "uid", "production"),
            data_key_aad(key_id, "uid", "staging")
        );
    }
}
