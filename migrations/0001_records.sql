-- shopsync's record store. Only what indexing needs is in the clear
-- (recordset, Shopify id, created/updated times, tombstone); every payload is
-- AES-256-GCM ciphertext bound to (connection, recordset, id, key id).

-- One row per ShopifyConnection ever seen, keyed by its Kubernetes uid (a
-- deleted and re-created resource of the same name is a new connection).
CREATE TABLE connections (
    id          BIGSERIAL PRIMARY KEY,
    uid         TEXT NOT NULL UNIQUE,
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    store       TEXT NOT NULL,
    environment TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    purged_at   TIMESTAMPTZ
);
CREATE INDEX connections_by_name ON connections (namespace, name);

-- Data keys, only ever stored wrapped by the master key. One active key per
-- (connection, environment); a retired key stays until its records are
-- re-encrypted; a destroyed key keeps its row (for the audit trail) but not
-- its wrapped bytes, which is what crypto-shredding means.
CREATE TABLE data_keys (
    key_id        UUID PRIMARY KEY,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    environment   TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped       BYTEA,
    state         TEXT NOT NULL CHECK (state IN ('active', 'retired', 'destroyed')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    destroyed_at  TIMESTAMPTZ,
    CHECK ((state = 'destroyed') = (wrapped IS NULL))
);
CREATE UNIQUE INDEX data_keys_one_active
    ON data_keys (connection_id, environment) WHERE state = 'active';

-- No foreign keys on purpose: their per-row triggers would cost the bulk
-- upsert path, and neither connection rows nor key rows are ever deleted
-- (a purge keeps both as its trace; destroying a key only empties it).
CREATE TABLE records (
    connection_id BIGINT NOT NULL,
    recordset     TEXT NOT NULL,
    shopify_id    BIGINT NOT NULL,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT false,
    key_id        UUID NOT NULL,
    nonce         BYTEA NOT NULL,
    ciphertext    BYTEA NOT NULL,
    PRIMARY KEY (connection_id, recordset, shopify_id)
);
-- "records of recordset X updated since T"; the primary key serves "record by
-- id" and the data-key rotation's walk.
CREATE INDEX records_by_updated ON records (connection_id, recordset, updated_at, shopify_id);

-- A data-key rotation in progress: records are re-encrypted in primary-key
-- order and the cursor advances with each batch, so a restart resumes. The
-- walk ends at the last primary key that existed when the keys switched:
-- rows created after the switch are under the new key already. NULL end:
-- there was nothing to re-encrypt.
CREATE TABLE key_rotations (
    from_key_id       UUID PRIMARY KEY REFERENCES data_keys (key_id),
    to_key_id         UUID NOT NULL REFERENCES data_keys (key_id),
    connection_id     BIGINT NOT NULL REFERENCES connections (id),
    cursor_recordset  TEXT NOT NULL DEFAULT '',
    cursor_shopify_id BIGINT NOT NULL DEFAULT -9223372036854775808,
    end_recordset     TEXT,
    end_shopify_id    BIGINT,
    reencrypted       BIGINT NOT NULL DEFAULT 0,
    started_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at       TIMESTAMPTZ
);

-- Sync progress per (connection, recordset, stream): the incremental watermark
-- or a backfill stage with its bulk operation id. Advanced only in the
-- transaction that commits the rows it covers.
CREATE TABLE checkpoints (
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    recordset     TEXT NOT NULL,
    stream        TEXT NOT NULL,
    watermark     TIMESTAMPTZ,
    state         JSONB NOT NULL DEFAULT '{}'::jsonb,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, recordset, stream)
);

-- One row per sync run. Per-recordset counts grow in the same transactions as
-- the batches they count, so they are exact even when a run crashes.
CREATE TABLE sync_runs (
    id             BIGSERIAL PRIMARY KEY,
    connection_id  BIGINT NOT NULL REFERENCES connections (id),
    kind           TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at    TIMESTAMPTZ,
    outcome        TEXT CHECK (outcome IN ('succeeded', 'failed', 'cancelled')),
    records        JSONB NOT NULL DEFAULT '{}'::jsonb,
    cost_used      DOUBLE PRECISION NOT NULL DEFAULT 0,
    throttled      INTEGER NOT NULL DEFAULT 0,
    error          TEXT
);
CREATE INDEX sync_runs_by_connection ON sync_runs (connection_id, started_at DESC);
