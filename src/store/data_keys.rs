//! Data keys in Postgres: stored only wrapped by the master key, loaded into
//! a key ring for one (connection, environment), re-wrapped when the master
//! key changes.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Connection, StoreError};
use crate::crypto::{DataKey, KeyId, KeyRing, MasterKey, WrappedDataKey};

#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: Uuid,
    master_key_id: String,
    wrapped: Option<Vec<u8>>,
    state: String,
}

impl KeyRow {
    fn unwrap_with(
        &self,
        master: &MasterKey,
        conn: &Connection,
        environment: &str,
    ) -> Result<DataKey, StoreError> {
        let wrapped = self
            .wrapped
            .clone()
            .ok_or_else(|| StoreError::KeysDestroyed {
                connection: conn.qualified_name().to_string(),
            })?;
        let wrapped = WrappedDataKey {
            bytes: wrapped,
            master_key_id: self.master_key_id.clone(),
        };
        Ok(DataKey::unwrap(
            KeyId::from_uuid(self.key_id),
            &wrapped,
            master,
            &conn.uid,
            environment,
        )?)
    }
}

/// The key new records of `conn` are sealed with, created on first use.
pub async fn active_key(
    pool: &PgPool,
    master: &MasterKey,
    conn: &Connection,
) -> Result<DataKey, StoreError> {
    for _ in 0..2 {
        let row = sqlx::query_as::<_, KeyRow>(
            "SELECT key_id, master_key_id, wrapped, state FROM data_keys
             WHERE connection_id = $1 AND environment = $2 AND state = 'active'",
        )
        .bind(conn.id)
        .bind(&conn.environment)
        .fetch_optional(pool)
        .await?;
        if let Some(row) = row {
            return row.unwrap_with(master, conn, &conn.environment);
        }
        let key = DataKey::generate()?;
        let wrapped = key.wrap(master, &conn.uid, &conn.environment)?;
        // Share-locking the connection row orders this against a Purge, which
        // locks it exclusively: no key is ever created for a purged connection.
        let mut tx = pool.begin().await?;
        let purged: Option<bool> = sqlx::query_scalar(
            "SELECT purged_at IS NOT NULL FROM connections WHERE id = $1 FOR SHARE",
        )
        .bind(conn.id)
        .fetch_optional(&mut *tx)
        .await?;
        if purged != Some(false) {
            break;
        }
        // A concurrent writer may create one first; the partial unique index
        // keeps exactly one active key and the loop then loads the winner.
        let inserted = sqlx::query(
            "INSERT INTO data_keys (key_id, connection_id, environment, master_key_id, wrapped, state)
             VALUES ($1, $2, $3, $4, $5, 'active')
             ON CONFLICT (connection_id, environment) WHERE state = 'active' DO NOTHING",
        )
        .bind(key.id().as_uuid())
        .bind(conn.id)
        .bind(&conn.environment)
        .bind(&wrapped.master_key_id)
        .bind(&wrapped.bytes)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if inserted.rows_affected() == 1 {
            tracing::info!(connection = %conn.qualified_name(), key_id = %key.id(), "created data key");
            return Ok(key);
        }
    }
    Err(StoreError::KeysDestroyed {
        connection: conn.qualified_name().to_string(),
    })
}

/// The id of the active key, share-locked until the caller's transaction
/// ends: a data-key rotation cannot switch keys under a batch being written.
pub(super) async fn lock_active_key_id(
    tx: &mut PgConnection,
    conn: &Connection,
) -> Result<Option<KeyId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT key_id FROM data_keys
         WHERE connection_id = $1 AND environment = $2 AND state = 'active' FOR SHARE",
    )
    .bind(conn.id)
    .bind(&conn.environment)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(id.map(KeyId::from_uuid))
}

/// Every readable key of `conn` in `environment`, and only those. All keys
/// unwrap or the call fails naming the one that did not: no partial rings.
pub async fn load_ring(
    pool: &PgPool,
    master: &MasterKey,
    conn: &Connection,
    environment: &str,
) -> Result<KeyRing, StoreError> {
    let rows = sqlx::query_as::<_, KeyRow>(
        "SELECT key_id, master_key_id, wrapped, state FROM data_keys
         WHERE connection_id = $1 AND environment = $2 ORDER BY created_at",
    )
    .bind(conn.id)
    .bind(environment)
    .fetch_all(pool)
    .await?;
    let mut ring = KeyRing::new(environment);
    let mut destroyed = 0;
    for row in &rows {
        if row.state == "destroyed" {
            destroyed += 1;
            continue;
        }
        ring.insert(
            row.unwrap_with(master, conn, environment)?,
            row.state == "active",
        );
    }
    if ring.is_empty() && destroyed > 0 {
        return Err(StoreError::KeysDestroyed {
            connection: conn.qualified_name().to_string(),
        });
    }
    Ok(ring)
}

/// Re-wraps every live data key from `old` to `new` in one transaction;
/// records are untouched. Keys already under `new` are skipped, so running it
/// again after an interruption is safe. Returns how many were re-wrapped.
pub async fn rewrap_all(
    pool: &PgPool,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<usize, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        key: KeyRow,
        key_environment: String,
        #[sqlx(flatten)]
        connection: Connection,
    }
    let mut tx = pool.begin().await?;
    let rows = sqlx::query_as::<_, Row>(
        "SELECT k.key_id, k.master_key_id, k.wrapped, k.state, k.environment AS key_environment,
                c.id, c.uid, c.namespace, c.name, c.store, c.environment
         FROM data_keys k JOIN connections c ON c.id = k.connection_id
         WHERE k.state <> 'destroyed' AND k.master_key_id <> $1
         ORDER BY k.key_id FOR UPDATE OF k",
    )
    .bind(new.id().as_str())
    .fetch_all(&mut *tx)
    .await?;
    for row in &rows {
        let key = row
            .key
            .unwrap_with(old, &row.connection, &row.key_environment)?;
        let wrapped = key.wrap(new, &row.connection.uid, &row.key_environment)?;
        sqlx::query("UPDATE data_keys SET wrapped = $2, master_key_id = $3 WHERE key_id = $1")
            .bind(row.key.key_id)
            .bind(&wrapped.bytes)
            .bind(&wrapped.master_key_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}
