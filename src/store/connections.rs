//! Connections: one row per ShopifyConnection resource, keyed by its
//! Kubernetes uid. The uid is also what record ciphertexts are bound to.

use std::fmt;
use std::str::FromStr;

use sqlx::PgPool;

use super::StoreError;

/// What the controller knows about a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionIdentity {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub store: String,
    pub environment: String,
}

/// A registered connection.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Connection {
    pub id: i64,
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub store: String,
    pub environment: String,
}

impl Connection {
    pub fn qualified_name(&self) -> ConnectionName {
        ConnectionName {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// `NAMESPACE/NAME`, how people name a connection on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionName {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ConnectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0:?} is not NAMESPACE/NAME (for example shops/acme)")]
pub struct InvalidConnectionName(pub String);

impl FromStr for ConnectionName {
    type Err = InvalidConnectionName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(ConnectionName {
                    namespace: ns.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(InvalidConnectionName(s.to_owned())),
        }
    }
}

/// Records a connection (or refreshes its name, store and environment) and
/// returns it. Idempotent; a purged uid stays purged.
pub async fn register(
    pool: &PgPool,
    identity: &ConnectionIdentity,
) -> Result<Connection, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Registered {
        #[sqlx(flatten)]
        connection: Connection,
        purged: bool,
    }
    let row = sqlx::query_as::<_, Registered>(
        "INSERT INTO connections (uid, namespace, name, store, environment)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (uid) DO UPDATE SET namespace = EXCLUDED.namespace, name = EXCLUDED.name,
             store = EXCLUDED.store, environment = EXCLUDED.environment
         RETURNING id, uid, namespace, name, store, environment, purged_at IS NOT NULL AS purged",
    )
    .bind(&identity.uid)
    .bind(&identity.namespace)
    .bind(&identity.name)
    .bind(&identity.store)
    .bind(&identity.environment)
    .fetch_one(pool)
    .await?;
    if row.purged {
        return Err(StoreError::Purged {
            connection: row.connection.qualified_name().to_string(),
        });
    }
    Ok(row.connection)
}

/// The live connection called `name`: the newest one not purged (a resource
/// deleted with Retain and created again leaves an older connection behind).
pub async fn find(pool: &PgPool, name: &ConnectionName) -> Result<Connection, StoreError> {
    let found = sqlx::query_as::<_, Connection>(
        "SELECT id, uid, namespace, name, store, environment FROM connections
         WHERE namespace = $1 AND name = $2 AND purged_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(&name.namespace)
    .bind(&name.name)
    .fetch_optional(pool)
    .await?;
    found.ok_or_else(|| StoreError::ConnectionNotFound {
        connection: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_names_parse() {
        let n: ConnectionName = "shops/acme".parse().unwrap();
        assert_eq!(n.to_string(), "shops/acme");
        for bad in ["acme", "/acme", "shops/", "a/b/c"] {
            assert!(bad.parse::<ConnectionName>().is_err(), "{bad}");
        }
    }
}
