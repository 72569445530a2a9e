//! Key rotation. Master-key rotation re-wraps data keys and touches no
//! record. Data-key rotation switches the active key in one short
//! transaction, then re-encrypts the old key's records in primary-key order,
//! in batches, with a cursor saved per batch so an interrupted rotation
//! resumes; readers hold both keys meanwhile, and writers are blocked only
//! for the switch.

use sqlx::PgPool;
use uuid::Uuid;

use super::data_keys;
use super::{Connection, StoreError};
use crate::crypto::{DataKey, KeyId, MasterKey, RecordAad};

/// Where a data-key rotation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationProgress {
    pub from: KeyId,
    pub to: KeyId,
    pub reencrypted: i64,
    pub finished: bool,
}

/// Re-wraps every data key from `old` to `new`; see [`data_keys::rewrap_all`].
pub async fn rotate_master_key(
    pool: &PgPool,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<usize, StoreError> {
    let n = data_keys::rewrap_all(pool, old, new).await?;
    tracing::info!(from = %old.id(), to = %new.id(), data_keys = n, "master key rotated");
    Ok(n)
}

/// Starts a data-key rotation for `conn`, or returns the one in progress.
pub async fn start_data_key_rotation(
    pool: &PgPool,
    master: &MasterKey,
    conn: &Connection,
) -> Result<RotationProgress, StoreError> {
    // Prove the master key opens the current keys before changing anything:
    // a new key wrapped by the wrong master key would lock every writer out.
    data_keys::load_ring(pool, master, conn, &conn.environment).await?;
    let mut tx = pool.begin().await?;
    if let Some(progress) = unfinished(&mut tx, conn.id).await? {
        return Ok(progress);
    }
    // FOR UPDATE waits for writers' share locks: the batch being written
    // finishes under the old key, every later one uses the new key.
    let active: Option<Uuid> = sqlx::query_scalar(
        "SELECT key_id FROM data_keys WHERE connection_id = $1 AND environment = $2 AND state = 'active' FOR UPDATE",
    )
    .bind(conn.id)
    .bind(&conn.environment)
    .fetch_optional(&mut *tx)
    .await?;
    let from = active.ok_or_else(|| StoreError::NothingToRotate {
        connection: conn.qualified_name().to_string(),
    })?;
    let key = DataKey::generate()?;
    let wrapped = key.wrap(master, &conn.uid, &conn.environment)?;
    sqlx::query("UPDATE data_keys SET state = 'retired' WHERE key_id = $1")
        .bind(from)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO data_keys (key_id, connection_id, environment, master_key_id, wrapped, state)
         VALUES ($1, $2, $3, $4, $5, 'active')",
    )
    .bind(key.id().as_uuid())
    .bind(conn.id)
    .bind(&conn.environment)
    .bind(&wrapped.master_key_id)
    .bind(&wrapped.bytes)
    .execute(&mut *tx)
    .await?;
    // Every writer that held the old key has committed (the lock above waited
    // for it), so this statement's snapshot sees every row under the old key.
    sqlx::query(
        "INSERT INTO key_rotations (from_key_id, to_key_id, connection_id, end_recordset, end_shopify_id)
         SELECT $1, $2, $3, last.recordset, last.shopify_id
         FROM (SELECT 1) AS one LEFT JOIN LATERAL
             (SELECT recordset, shopify_id FROM records WHERE connection_id = $3
              ORDER BY recordset DESC, shopify_id DESC LIMIT 1) AS last ON true",
    )
    .bind(from)
    .bind(key.id().as_uuid())
    .bind(conn.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(connection = %conn.qualified_name(), from = %from, to = %key.id(), "data-key rotation started");
    Ok(RotationProgress {
        from: KeyId::from_uuid(from),
        to: key.id(),
        reencrypted: 0,
        finished: false,
    })
}

/// Re-encrypts up to `max_batches` batches (all, if `None`) of the
/// rotation in progress; when the walk is complete, destroys the old key.
pub async fn continue_data_key_rotation(
    pool: &PgPool,
    master: &MasterKey,
    conn: &Connection,
    batch_size: i64,
    max_batches: Option<u32>,
) -> Result<RotationProgress, StoreError> {
    let mut progress = {
        let mut c = pool.acquire().await?;
        unfinished(&mut c, conn.id)
            .await?
            .ok_or_else(|| StoreError::NothingToRotate {
                connection: conn.qualified_name().to_string(),
            })?
    };
    let environment: String =
        sqlx::query_scalar("SELECT environment FROM data_keys WHERE key_id = $1")
            .bind(progress.from.as_uuid())
            .fetch_one(pool)
            .await?;
    let ring = data_keys::load_ring(pool, master, conn, &environment).await?;
    let (old, new) = (ring.get(progress.from)?, ring.get(progress.to)?);
    let mut batches = 0;
    loop {
        if max_batches.is_some_and(|max| batches >= max) {
            return Ok(progress);
        }
        let walked = reencrypt_batch(pool, conn, old, new, batch_size).await?;
        batches += 1;
        match walked {
            Some(n) => progress.reencrypted += n,
            None => break,
        }
    }
    let mut tx = pool.begin().await?;
    let left: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM records WHERE connection_id = $1 AND key_id = $2)",
    )
    .bind(conn.id)
    .bind(progress.from.as_uuid())
    .fetch_one(&mut *tx)
    .await?;
    if left {
        // Only possible if rows were restored from elsewhere; walk again.
        sqlx::query(
            "UPDATE key_rotations k SET cursor_recordset = '', cursor_shopify_id = -9223372036854775808,
                 end_recordset = last.recordset, end_shopify_id = last.shopify_id
             FROM (SELECT recordset, shopify_id FROM records WHERE connection_id = $2
                   ORDER BY recordset DESC, shopify_id DESC LIMIT 1) AS last
             WHERE k.from_key_id = $1",
        )
        .bind(progress.from.as_uuid())
        .bind(conn.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Box::pin(continue_data_key_rotation(
            pool,
            master,
            conn,
            batch_size,
            max_batches,
        ))
        .await;
    }
    sqlx::query("UPDATE data_keys SET state = 'destroyed', wrapped = NULL, destroyed_at = now() WHERE key_id = $1")
        .bind(progress.from.as_uuid())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE key_rotations SET finished_at = now() WHERE from_key_id = $1")
        .bind(progress.from.as_uuid())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    progress.finished = true;
    tracing::info!(connection = %conn.qualified_name(), from = %progress.from, to = %progress.to,
        records = progress.reencrypted, "data-key rotation finished; old key destroyed");
    Ok(progress)
}

/// Starts (or resumes) and completes a data-key rotation.
pub async fn rotate_data_key(
    pool: &PgPool,
    master: &MasterKey,
    conn: &Connection,
    batch_size: i64,
) -> Result<RotationProgress, StoreError> {
    start_data_key_rotation(pool, master, conn).await?;
    continue_data_key_rotation(pool, master, conn, batch_size, None).await
}

async fn unfinished(
    c: &mut sqlx::PgConnection,
    connection_id: i64,
) -> Result<Option<RotationProgress>, StoreError> {
    let row: Option<(Uuid, Uuid, i64)> = sqlx::query_as(
        "SELECT from_key_id, to_key_id, reencrypted FROM key_rotations WHERE connection_id = $1 AND finished_at IS NULL",
    )
    .bind(connection_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|(from, to, reencrypted)| RotationProgress {
        from: KeyId::from_uuid(from),
        to: KeyId::from_uuid(to),
        reencrypted,
        finished: false,
    }))
}

#[derive(sqlx::FromRow)]
struct WalkRow {
    recordset: String,
    shopify_id: i64,
    key_id: Uuid,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// One batch of the walk: `None` when the walk is past the last record.
async fn reencrypt_batch(
    pool: &PgPool,
    conn: &Connection,
    old: &DataKey,
    new: &DataKey,
    batch_size: i64,
) -> Result<Option<i64>, StoreError> {
    let mut tx = pool.begin().await?;
    // The row lock makes two rotators of one connection take turns.
    let (cursor_recordset, cursor_id, end_recordset, end_id): (
        String,
        i64,
        Option<String>,
        Option<i64>,
    ) = sqlx::query_as(
        "SELECT cursor_recordset, cursor_shopify_id, end_recordset, end_shopify_id
         FROM key_rotations WHERE from_key_id = $1 FOR UPDATE",
    )
    .bind(old.id().as_uuid())
    .fetch_one(&mut *tx)
    .await?;
    let (Some(end_recordset), Some(end_id)) = (end_recordset, end_id) else {
        return Ok(None);
    };
    let rows = sqlx::query_as::<_, WalkRow>(
        "SELECT recordset, shopify_id, key_id, nonce, ciphertext FROM records
         WHERE connection_id = $1 AND (recordset, shopify_id) > ($2, $3) AND (recordset, shopify_id) <= ($4, $5)
         ORDER BY recordset, shopify_id LIMIT $6",
    )
    .bind(conn.id)
    .bind(&cursor_recordset)
    .bind(cursor_id)
    .bind(&end_recordset)
    .bind(end_id)
    .bind(batch_size)
    .fetch_all(&mut *tx)
    .await?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let (last_recordset, last_id) = (last.recordset.clone(), last.shopify_id);
    let mut recordsets = Vec::new();
    let mut ids = Vec::new();
    let mut old_nonces = Vec::new();
    let mut nonces = Vec::new();
    let mut ciphertexts = Vec::new();
    for row in rows.into_iter().filter(|r| r.key_id == old.id().as_uuid()) {
        let plaintext = old.open(
            &aad(conn, &row.recordset, row.shopify_id, old.id()),
            &row.nonce,
            &row.ciphertext,
        )?;
        let sealed = new.seal(
            &aad(conn, &row.recordset, row.shopify_id, new.id()),
            &plaintext,
        )?;
        recordsets.push(row.recordset);
        ids.push(row.shopify_id);
        old_nonces.push(row.nonce);
        nonces.push(sealed.nonce.to_vec());
        ciphertexts.push(sealed.ciphertext);
    }
    // Compare-and-set on (key id, nonce): a row a writer replaced meanwhile
    // is already under the new key and is left alone.
    let updated = sqlx::query(
        "UPDATE records r SET key_id = $3, nonce = u.nonce, ciphertext = u.ciphertext
         FROM UNNEST($4::text[], $5::bigint[], $6::bytea[], $7::bytea[], $8::bytea[])
              AS u (recordset, shopify_id, old_nonce, nonce, ciphertext)
         WHERE r.connection_id = $1 AND r.recordset = u.recordset AND r.shopify_id = u.shopify_id
           AND r.key_id = $2 AND r.nonce = u.old_nonce",
    )
    .bind(conn.id)
    .bind(old.id().as_uuid())
    .bind(new.id().as_uuid())
    .bind(&recordsets)
    .bind(&ids)
    .bind(&old_nonces)
    .bind(&nonces)
    .bind(&ciphertexts)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    sqlx::query(
        "UPDATE key_rotations SET cursor_recordset = $2, cursor_shopify_id = $3, reencrypted = reencrypted + $4
         WHERE from_key_id = $1",
    )
    .bind(old.id().as_uuid())
    .bind(&last_recordset)
    .bind(last_id)
    .bind(updated)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(updated))
}

fn aad<'a>(
    conn: &'a Connection,
    recordset: &'a str,
    shopify_id: i64,
    key_id: KeyId,
) -> RecordAad<'a> {
    RecordAad {
        connection_uid: &conn.uid,
        recordset,
        shopify_id,
        key_id,
    }
}
