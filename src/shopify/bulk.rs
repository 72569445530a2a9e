//! Bulk operations: start a job (with grouped output), find it again after a
//! restart, poll it, cancel it, and stream its JSONL result without the
//! access token (the signed URL is the credential). Every call goes through the client, so a
//! THROTTLED submit or poll is retried like any query and never read as
//! "no job" (shopify-admin-api.md §3, §11.1–11.2).

use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ShopifyClient;
use super::error::ShopifyError;
use super::guard;

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

/// The mutation that starts a job (variable `$query`: the inner document).
pub fn start_document() -> String {
    format!(
        "mutation RunBulk($query: String!) {{ bulkOperationRunQuery(query: $query, groupObjects: true) {{ bulkOperation {{ {OPERATION_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

/// The query that polls a job (variable `$id`).
pub fn poll_document() -> String {
    format!(
        "query Poll($id: ID!) {{ node(id: $id) {{ ... on BulkOperation {{ {OPERATION_FIELDS} }} }} }}"
    )
}

/// Starts a bulk query with grouped output: each object's children follow it
/// directly (§3.1), so a result can be stored one root at a time and a failed
/// job's partial file holds complete roots up to its last one. The inner
/// document must be a query.
pub async fn start(client: &ShopifyClient, inner: &str) -> Result<Started, ShopifyError> {
    guard::check_inner_query(inner)?;
    let response = client
        .execute(&start_document(), json!({"query": inner}), MUTATION_COST)
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
    let response = client
        .execute(&poll_document(), json!({"id": id}), POLL_COST)
        .await?;
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

/// A bulk result being downloaded, handed out in buffers of whole lines.
#[derive(Debug)]
pub struct ResultLines {
    response: reqwest::Response,
    pending: Vec<u8>,
}

/// Opens a result for reading. The request carries no Shopify token: the
/// URL is signed, and a token sent to a storage host would leak.
pub async fn open(http: &reqwest::Client, url: &str) -> Result<ResultLines, ShopifyError> {
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
    Ok(ResultLines {
        response,
        pending: Vec::new(),
    })
}

impl ResultLines {
    /// The next run of whole lines, each ending in a newline; at the end,
    /// whatever follows the last newline. `None` once everything is read.
    pub async fn next_lines(&mut self) -> Result<Option<Vec<u8>>, ShopifyError> {
        loop {
            let chunk = self.response.chunk().await.map_err(|e| {
                ShopifyError::Transport(format!("bulk result cut off: {}", e.without_url()))
            })?;
            let Some(chunk) = chunk else {
                return Ok((!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending)));
            };
            match chunk.iter().rposition(|b| *b == b'\n') {
                Some(end) => {
                    let mut lines = std::mem::take(&mut self.pending);
                    lines.extend_from_slice(&chunk[..=end]);
                    self.pending.extend_from_slice(&chunk[end + 1..]);
                    return Ok(Some(lines));
                }
                None => self.pending.extend_from_slice(&chunk),
            }
        }
    }
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
