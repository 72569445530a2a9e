//! Bulk operations: start a job, find it again after a restart, poll it,
//! cancel it, and stream its JSONL result without the access token (the
//! signed URL is the credential). Every call goes through the client, so a
//! THROTTLED submit or poll is retried like any query and never read as
//! "no job" (shopify-admin-api.md §3, §11.1–11.2).

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ShopifyClient;
use super::error::ShopifyError;
use super::guard;
use super::jsonl::{Assembled, Assembler};

/// Cost Shopify charges for a mutation.
const MUTATION_COST: f64 = 10.0;
/// A poll selects one object with scalars.
const POLL_COST: f64 = 1.0;

const OPERATION_FIELDS: &str = "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl";

/// Where a job stands.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BulkStatus {
    Created,
    Running,
    Completed,
    Canceling,
    Canceled,
    Failed,
    Expired,
}

impl BulkStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Canceled | Self::Failed | Self::Expired
        )
    }
}

/// A bulk operation as Shopify reports it. Counts arrive as strings.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    pub id: String,
    pub status: BulkStatus,
    pub error_code: Option<String>,
    pub object_count: Option<String>,
    pub root_object_count: Option<String>,
    pub url: Option<String>,
    pub partial_data_url: Option<String>,
}

impl BulkOperation {
    pub fn objects(&self) -> u64 {
        self.object_count
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

/// The outcome of asking Shopify to start a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    Running(BulkOperation),
    /// The concurrency limit is reached; the ids Shopify named are running.
    Busy {
        running: Vec<String>,
        message: String,
    },
}

/// Starts a bulk query. The inner document must be a query.
pub async fn start(client: &ShopifyClient, inner: &str) -> Result<Started, ShopifyError> {
    guard::check_inner_query(inner)?;
    let doc = format!(
        "mutation RunBulk($query: String!) {{ bulkOperationRunQuery(query: $query) {{ bulkOperation {{ {OPERATION_FIELDS} }} userErrors {{ field message code }} }} }}"
    );
    let response = client
        .execute(&doc, json!({"query": inner}), MUTATION_COST)
        .await?;
    let payload = &response.data["bulkOperationRunQuery"];
    let errors = payload["userErrors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(first) = errors.first() {
        let message = first["message"].as_str().unwrap_or_default().to_owned();
        return match first["code"].as_str() {
            Some("OPERATION_IN_PROGRESS") | Some("LIMIT_REACHED") => Ok(Started::Busy {
                running: bulk_ids(&message),
                message,
            }),
            _ => Err(ShopifyError::GraphQl(format!(
                "bulk query rejected: {message}"
            ))),
        };
    }
    operation(&payload["bulkOperation"]).map(Started::Running)
}

/// Polls a job through `node(id:)`, which every API version serves (the
/// newer `bulkOperation(id:)` root exists only from 2026-01).
pub async fn poll(client: &ShopifyClient, id: &str) -> Result<BulkOperation, ShopifyError> {
    let doc = format!(
        "query Poll($id: ID!) {{ node(id: $id) {{ ... on BulkOperation {{ {OPERATION_FIELDS} }} }} }}"
    );
    let response = client.execute(&doc, json!({"id": id}), POLL_COST).await?;
    let node = &response.data["node"];
    if node.is_null() {
        // A successful answer without the job: it really does not exist
        // (expired from Shopify's records). Throttled polls never get here.
        return Err(ShopifyError::GraphQl(format!(
            "bulk operation {id} does not exist"
        )));
    }
    operation(node)
}

/// Asks Shopify to cancel a job (it moves to CANCELING).
pub async fn cancel(client: &ShopifyClient, id: &str) -> Result<(), ShopifyError> {
    let doc = "mutation Cancel($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }";
    let response = client
        .execute(doc, json!({"id": id}), MUTATION_COST)
        .await?;
    match response.data["bulkOperationCancel"]["userErrors"]
        .as_array()
        .and_then(|e| e.first())
    {
        Some(err) => Err(ShopifyError::GraphQl(format!(
            "cancel of {id} refused: {}",
            err["message"].as_str().unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

/// Downloads a result and assembles it. The request carries no Shopify
/// token: the URL is signed, and a token sent to a storage host would leak.
pub async fn download(http: &reqwest::Client, url: &str) -> Result<Vec<Assembled>, ShopifyError> {
    let response = http.get(url).send().await.map_err(|e| {
        ShopifyError::Transport(format!("downloading a bulk result: {}", e.without_url()))
    })?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(ShopifyError::Server {
            status,
            request_id: None,
            retry_after: super::response::ResponseMeta::from_headers(response.headers())
                .retry_after,
        });
    }
    let mut assembler = Assembler::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ShopifyError::Transport(format!("bulk result cut off: {}", e.without_url()))
        })?;
        pending.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(offset) = pending[start..].iter().position(|b| *b == b'\n') {
            assembler
                .push_line(&pending[start..start + offset])
                .map_err(decode)?;
            start += offset + 1;
        }
        pending.drain(..start);
    }
    assembler.push_line(&pending).map_err(decode)?;
    assembler.finish().map_err(decode)
}

fn decode(e: super::jsonl::JsonlError) -> ShopifyError {
    ShopifyError::Decode(e.to_string())
}

fn operation(value: &Value) -> Result<BulkOperation, ShopifyError> {
    serde_json::from_value(value.clone())
        .map_err(|e| ShopifyError::Decode(format!("bulk operation: {e}")))
}

/// Every `gid://shopify/BulkOperation/N` named in a message.
fn bulk_ids(message: &str) -> Vec<String> {
    message
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.starts_with("gid://shopify/BulkOperation/"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_ids_come_from_the_in_progress_message() {
        let message = "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/7933223797042, gid://shopify/BulkOperation/12.";
        assert_eq!(
            bulk_ids(message),
            [
                "gid://shopify/BulkOperation/7933223797042",
                "gid://shopify/BulkOperation/12"
            ]
        );
    }

    #[test]
    fn operations_parse_with_string_counts() {
        let op: BulkOperation = serde_json::from_value(json!({"id":"gid://shopify/BulkOperation/1","status":"COMPLETED",
            "errorCode":null,"createdAt":"2026-06-16T08:06:19Z","completedAt":null,"objectCount":"1451",
            "rootObjectCount":"400","fileSize":null,"url":"http://x/y","partialDataUrl":null})).unwrap();
        assert_eq!(op.objects(), 1451);
        assert!(op.status.is_finished());
    }
}
