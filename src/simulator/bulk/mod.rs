//! Bulk query operations (reference §3): submit with validation and the
//! per-version concurrency limit, the CREATED → RUNNING → COMPLETED lifecycle
//! (plus FAILED, CANCELING → CANCELED, EXPIRED), listing, and result URLs
//! signed like the storage URLs Shopify hands out.

pub mod download;
mod run;
pub mod validate;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use super::data::model::Ts;
use super::graphql::connection::{PageArgs, paginate};
use super::graphql::execute::Resolved;
use super::graphql::plan::{self, PlanFailure, PlanField};
use super::resolve::{Ctx, Obj, Result, parse_gid};
use super::schema::Schema;
use super::search::{self, FieldValue, Searchable};
use super::{SimStore, Simulator, stats};

/// First bulk operation id; ids look like Shopify's (`gid://shopify/BulkOperation/7933223797042`).
const FIRST_ID: u64 = 7_933_223_797_042;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn graphql(self) -> &'static str {
        match self {
            BulkStatus::Created => "CREATED",
            BulkStatus::Running => "RUNNING",
            BulkStatus::Completed => "COMPLETED",
            BulkStatus::Canceling => "CANCELING",
            BulkStatus::Canceled => "CANCELED",
            BulkStatus::Failed => "FAILED",
            BulkStatus::Expired => "EXPIRED",
        }
    }

    pub fn active(self) -> bool {
        matches!(
            self,
            BulkStatus::Created | BulkStatus::Running | BulkStatus::Canceling
        )
    }
}

#[derive(Debug, Clone)]
pub struct BulkOp {
    pub id: u64,
    pub status: BulkStatus,
    pub error_code: Option<&'static str>,
    pub created_at: Ts,
    pub completed_at: Option<Ts>,
    pub object_count: u64,
    pub root_object_count: u64,
    pub file_size: Option<u64>,
    pub query: String,
    pub group_objects: bool,
    /// The JSONL file; `None` until finished, and for empty results.
    pub path: Option<PathBuf>,
    /// The file holds partial data from a failed job.
    pub partial: bool,
    pub expires_at: Ts,
    pub signature: String,
    pub cancel_requested: bool,
}

impl BulkOp {
    /// `url` or `partialDataUrl`: a signed download path that needs no token (§3.5).
    pub fn url(&self, sim: &Simulator, domain: &str, partial: bool) -> Option<String> {
        self.path.as_ref()?;
        let wanted = if partial {
            self.partial && self.status == BulkStatus::Failed
        } else {
            !self.partial
        };
        if !wanted {
            return None;
        }
        Some(format!(
            "{}/_bulk/{domain}/{}.jsonl?Expires={}&Signature={}&response-content-disposition=attachment%3B+filename%3D%22bulk-{}.jsonl%22&response-content-type=application%2Fjsonl",
            sim.base_url(),
            self.id,
            self.expires_at,
            self.signature,
            self.id
        ))
    }
}

/// A `userErrors` entry.
#[derive(Debug, Clone)]
pub struct UserErr {
    pub field: Option<String>,
    pub message: String,
    pub code: &'static str,
}

#[derive(Debug, Default)]
pub struct BulkRegistry {
    pub ops: Vec<BulkOp>,
}

impl BulkRegistry {
    /// The registry as a client sees it now: completed jobs past their URL lifetime are EXPIRED.
    pub fn snapshot(&self, now: Ts) -> Vec<BulkOp> {
        self.ops
            .iter()
            .map(|op| {
                let mut op = op.clone();
                if op.status == BulkStatus::Completed && op.path.is_some() && now > op.expires_at {
                    op.status = BulkStatus::Expired;
                }
                op
            })
            .collect()
    }
}

/// Bulk query concurrency per app and shop: 1 before 2026-01, 5 from 2026-01 (§3.2).
pub fn concurrency_limit(version: &str) -> usize {
    if version >= "2026-01" { 5 } else { 1 }
}

pub fn submit(ctx: &Ctx<'_>, query: &str, group_objects: bool) -> (Option<BulkOp>, Vec<UserErr>) {
    let invalid = |message: String| UserErr {
        field: Some("query".into()),
        message,
        code: "INVALID",
    };
    let schema = Schema::served();
    let no_variables = serde_json::Map::new();
    let inner =
        match plan::plan_for_version(schema, query, &no_variables, None, &ctx.version.served) {
            Ok(p) => p,
            Err(PlanFailure::Syntax(e)) => return (None, vec![invalid(e.message)]),
            Err(PlanFailure::Invalid(errs)) => {
                return (None, errs.into_iter().map(|e| invalid(e.message)).collect());
            }
        };
    if let Err(message) = validate::check(&inner, schema) {
        return (None, vec![invalid(message)]);
    }
    let store = ctx.store;
    let limit = concurrency_limit(&ctx.version.served);
    let op = {
        let mut reg = store.bulk_registry();
        let running: Vec<String> = reg
            .ops
            .iter()
            .filter(|op| op.status.active())
            .map(|op| format!("gid://shopify/BulkOperation/{}", op.id))
            .collect();
        if running.len() >= limit {
            return (
                None,
                vec![UserErr {
                    field: None,
                    message: format!(
                        "A bulk query operation for this app and shop is already in progress: {}.",
                        running.join(", ")
                    ),
                    code: "OPERATION_IN_PROGRESS",
                }],
            );
        }
        let id = FIRST_ID + reg.ops.len() as u64 * 1_000 + 1;
        let op = BulkOp {
            id,
            status: BulkStatus::Created,
            error_code: None,
            created_at: ctx.now,
            completed_at: None,
            object_count: 0,
            root_object_count: 0,
            file_size: None,
            query: query.to_string(),
            group_objects,
            path: None,
            partial: false,
            expires_at: 0,
            signature: signature(store.config.data.seed, id),
            cancel_requested: false,
        };
        reg.ops.push(op.clone());
        op
    };
    stats::add(&store.stats.bulk_started, 1);
    run::spawn(
        Arc::clone(ctx.sim),
        Arc::clone(store),
        op.id,
        inner,
        op.group_objects,
    );
    (Some(op), vec![])
}

/// A signature the download path checks; not secret, just not guessable by accident.
fn signature(seed: u64, id: u64) -> String {
    let mut r = crate::simulator::data::rng::Rng::derive(seed, id);
    format!("{:016x}{:016x}", r.next_u64(), r.next_u64())
}

pub fn cancel(ctx: &Ctx<'_>, gid: &str) -> (Option<BulkOp>, Vec<UserErr>) {
    let id = parse_gid(gid)
        .filter(|(t, _)| *t == "BulkOperation")
        .map(|(_, n)| n);
    let mut reg = ctx.store.bulk_registry();
    let Some(op) = id.and_then(|id| reg.ops.iter_mut().find(|op| op.id == id)) else {
        return (
            None,
            vec![UserErr {
                field: Some("id".into()),
                message: "Bulk operation does not exist".into(),
                code: "INVALID",
            }],
        );
    };
    if !matches!(op.status, BulkStatus::Created | BulkStatus::Running) {
        let message = format!(
            "A bulk operation cannot be canceled when it is {}",
            op.status.graphql().to_lowercase()
        );
        return (
            Some(op.clone()),
            vec![UserErr {
                field: None,
                message,
                code: "INVALID",
            }],
        );
    }
    op.status = BulkStatus::Canceling;
    op.cancel_requested = true;
    stats::add(&ctx.store.stats.bulk_canceled, 1);
    (Some(op.clone()), vec![])
}

struct OpSearch<'a>(&'a BulkOp);

impl Searchable for OpSearch<'_> {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        Some(match name {
            "status" => FieldValue::Owned(self.0.status.graphql().to_lowercase()),
            "created_at" => FieldValue::Time(self.0.created_at),
            "id" => FieldValue::Number(self.0.id),
            "operation_type" => FieldValue::Text("query"),
            _ => return None,
        })
    }
}

/// `bulkOperations(first, after, query, sortKey, reverse)`.
pub fn list<'a>(ctx: &Ctx<'a>, f: &PlanField) -> Result<'a> {
    let query = search::parse(f.arg_str("query").unwrap_or(""));
    let by_completed = f.arg_str("sortKey") == Some("COMPLETED_AT");
    let args = PageArgs::from_field(f, 1000, ctx.bulk)?;
    let ops = ctx.store.bulk_snapshot();
    let mut keyed: Vec<(i64, u64, BulkOp)> = ops
        .into_iter()
        .filter(|op| query.matches(&OpSearch(op), ctx.now))
        .map(|op| {
            (
                (if by_completed {
                    op.completed_at.unwrap_or(0)
                } else {
                    op.created_at
                }),
                op.id,
                op,
            )
        })
        .collect();
    keyed.sort_by_key(|(k, id, _)| (*k, *id));
    let (lo, hi) = args.bounds();
    let inside = |k: (i64, u64)| {
        (match lo {
            std::ops::Bound::Excluded(b) => k > b,
            _ => true,
        }) && (match hi {
            std::ops::Bound::Excluded(b) => k < b,
            _ => true,
        })
    };
    let keys: Vec<(i64, u64)> = keyed
        .iter()
        .map(|(k, id, _)| (*k, *id))
        .filter(|k| inside(*k))
        .collect();
    let page = paginate(&args, 1000, keys.into_iter(), |_, id| {
        keyed
            .iter()
            .find(|(_, i, _)| *i == id)
            .map(|(_, _, op)| Obj::Bulk(Rc::new(op.clone())))
    });
    Ok(Resolved::Connection(page))
}

impl SimStore {
    pub fn bulk_registry(&self) -> std::sync::MutexGuard<'_, BulkRegistry> {
        match self.bulk.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}
