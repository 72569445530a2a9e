//! Runs one bulk query on its own thread: pages through the root connection
//! 250 at a time (holding the store's read lock one page at a time, so churn
//! can go on), writes one JSON object per line with `__parentId` on nodes of
//! nested connections (reference §3.6) — right after their parent when the
//! job groups objects, after the page otherwise — and honours cancel and the
//! bulk faults.

use std::io::Write;
use std::sync::Arc;

use serde_json::Value;

use super::BulkStatus;
use crate::simulator::faults::BulkFault;
use crate::simulator::graphql::execute::{Executor, Resolved, Resolver};
use crate::simulator::graphql::output::Out;
use crate::simulator::graphql::plan::{Plan, PlanField};
use crate::simulator::resolve::{Ctx, Obj};
use crate::simulator::schema::Schema;
use crate::simulator::{SimStore, Simulator, stats};

pub fn spawn(sim: Arc<Simulator>, store: Arc<SimStore>, id: u64, plan: Plan, grouped: bool) {
    let name = format!("bulk-{id}");
    let result = std::thread::Builder::new().name(name).spawn(move || {
        if let Err(err) = run(&sim, &store, id, &plan, grouped) {
            tracing::warn!(store = %store.config.domain, bulk = id, error = %err, "bulk operation failed");
            finish(&store, id, |op| {
                op.status = BulkStatus::Failed;
                op.error_code = Some("INTERNAL_SERVER_ERROR");
            });
        }
    });
    if let Err(err) = result {
        tracing::warn!(error = %err, "could not start a bulk operation thread");
    }
}

fn finish(store: &SimStore, id: u64, change: impl FnOnce(&mut super::BulkOp)) {
    let mut reg = store.bulk_registry();
    if let Some(op) = reg.ops.iter_mut().find(|op| op.id == id) {
        change(op);
    }
}

fn cancel_requested(store: &SimStore, id: u64) -> bool {
    store
        .bulk_registry()
        .ops
        .iter()
        .any(|op| op.id == id && op.cancel_requested)
}

fn run(
    sim: &Arc<Simulator>,
    store: &Arc<SimStore>,
    id: u64,
    plan: &Plan,
    grouped: bool,
) -> std::io::Result<()> {
    // A job is CREATED for about a simulated second before it starts.
    std::thread::sleep(
        sim.clock
            .real_duration(1000.0)
            .min(std::time::Duration::from_millis(200)),
    );
    finish(store, id, |op| {
        if op.status == BulkStatus::Created {
            op.status = BulkStatus::Running;
        }
    });
    // A job whose root connection needs a scope the app lacks fails with ACCESS_DENIED (§3.3).
    let schema = Schema::served();
    let root_type = schema.get("QueryRoot");
    let denied = plan.fields.iter().any(|f| {
        root_type.and_then(|q| q.field(&f.name)).is_some_and(|def| {
            let grants = store.grants();
            let (scopes, protected) = (&grants.scopes, grants.protected);
            crate::simulator::scopes::check_field(schema, scopes, protected, "QueryRoot", def)
                .is_err()
        })
    });
    if denied {
        finish(store, id, |op| {
            op.status = BulkStatus::Failed;
            op.error_code = Some("ACCESS_DENIED");
            op.completed_at = Some(sim.clock.now_s());
        });
        stats::add(&store.stats.bulk_failed, 1);
        return Ok(());
    }
    let path = sim
        .files_dir()
        .join(format!("{}-{id}.jsonl", store.config.domain));
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let (mut objects, mut roots, mut bytes) = (0u64, 0u64, 0u64);
    let mut reported = 0u64;
    let roots_fields: Vec<&PlanField> = plan
        .fields
        .iter()
        .filter(|f| f.name != "__typename")
        .collect();
    let mut failed = false;
    'fields: for root in roots_fields {
        let mut cursor: Option<String> = None;
        loop {
            if cancel_requested(store, id) || sim.stopped.load(std::sync::atomic::Ordering::Relaxed)
            {
                finish(store, id, |op| {
                    op.status = BulkStatus::Canceled;
                    op.completed_at = Some(sim.clock.now_s());
                });
                let _ = std::fs::remove_file(&path);
                return Ok(());
            }
            let fault = store.faults().bulk;
            if fault == BulkFault::Stall {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
            let has_next = {
                let data = store.read_data();
                let version = sim.version_for("");
                let grants = store.grants();
                let ctx = Ctx {
                    sim,
                    store,
                    data: &data,
                    grants: &grants,
                    version: &version,
                    now: sim.clock.now_s(),
                    bulk: false,
                };
                let mut page_field = root.clone();
                page_field.args.insert("first".into(), Value::from(250));
                page_field.args.remove("last");
                page_field.args.remove("before");
                match &cursor {
                    Some(c) => page_field
                        .args
                        .insert("after".into(), Value::String(c.clone())),
                    None => page_field.args.remove("after"),
                };
                let page = match ctx.resolve(&Obj::Root, &page_field) {
                    Ok(Resolved::Connection(page)) => page,
                    _ => break,
                };
                let child = Ctx { bulk: true, ..ctx };
                let mut exec = Executor::new(&child, Schema::served());
                exec.skip_connections = true;
                let node_fields = node_selection(root);
                let mut deferred: Vec<u8> = Vec::new();
                for (obj, _) in &page.items {
                    roots += 1;
                    objects += emit(
                        &mut exec,
                        &child,
                        obj,
                        node_fields,
                        None,
                        &mut buf,
                        &mut deferred,
                        grouped,
                    )?;
                }
                buf.extend_from_slice(&deferred);
                cursor = page.items.last().map(|(_, c)| c.clone());
                page.has_next
            };
            let fail_now = fault == BulkFault::Fail && has_next;
            if fail_now {
                // The job dies while writing its last root: the partial file
                // ends inside it (its last object is missing).
                let body = buf.len().saturating_sub(1);
                buf.truncate(
                    buf[..body]
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1),
                );
                objects = objects.saturating_sub(1);
            }
            file.write_all(&buf)?;
            bytes += buf.len() as u64;
            let rate = store.faults().bulk_objects_per_s;
            if rate > 0.0 {
                // Wait in simulated time, so a frozen clock moved by /_sim/clock also works.
                let until = sim.clock.now_ms() + (objects - reported) as f64 / rate * 1000.0;
                while sim.clock.now_ms() < until
                    && !cancel_requested(store, id)
                    && !sim.stopped.load(std::sync::atomic::Ordering::Relaxed)
                {
                    let left = sim.clock.real_duration(until - sim.clock.now_ms());
                    std::thread::sleep(left.min(std::time::Duration::from_millis(20)));
                }
            }
            reported = objects;
            finish(store, id, |op| {
                op.object_count = objects;
                op.root_object_count = roots;
            });
            if fail_now {
                failed = true;
                break 'fields;
            }
            if !has_next {
                break;
            }
        }
    }
    file.flush()?;
    drop(file);
    let now = sim.clock.now_s();
    let ttl = sim.config.bulk_url_ttl_s;
    let expire_now = store.faults().bulk == BulkFault::Expire;
    finish(store, id, |op| {
        op.completed_at = Some(now);
        op.object_count = objects;
        op.root_object_count = roots;
        op.expires_at = if expire_now { now - 1 } else { now + ttl };
        if failed {
            op.status = BulkStatus::Failed;
            op.error_code = Some("INTERNAL_SERVER_ERROR");
            op.partial = true;
            op.path = Some(path.clone());
            op.file_size = Some(bytes);
        } else {
            op.status = BulkStatus::Completed;
            // An empty result has no URL (§3.5).
            op.path = (objects > 0).then(|| path.clone());
            op.file_size = (objects > 0).then_some(bytes);
        }
    });
    stats::add(
        if failed {
            &store.stats.bulk_failed
        } else {
            &store.stats.bulk_completed
        },
        1,
    );
    Ok(())
}

/// The selection under `edges { node { … } }` of a connection field.
fn node_selection(conn: &PlanField) -> &[PlanField] {
    conn.children
        .iter()
        .filter(|c| c.name == "edges")
        .flat_map(|e| e.children.iter().filter(|n| n.name == "node"))
        .map(|n| n.children.as_slice())
        .next()
        .unwrap_or(&[])
}

/// Writes `obj` as one line (with `__parentId` under a parent), then the nodes
/// of its nested connections as their own lines; returns the objects written.
#[allow(clippy::too_many_arguments)]
fn emit<'a>(
    exec: &mut Executor<'_, Ctx<'a>>,
    ctx: &Ctx<'a>,
    obj: &Obj<'a>,
    fields: &[PlanField],
    parent: Option<&str>,
    line_out: &mut Vec<u8>,
    child_out: &mut Vec<u8>,
    grouped: bool,
) -> std::io::Result<u64> {
    let mut path = Vec::new();
    let mut line = exec.object(obj, fields, &mut path);
    let own_id = line.get("id").and_then(Out::as_str).map(str::to_string);
    if let (Some(p), Out::Object(map)) = (parent, &mut line) {
        map.push((std::borrow::Cow::Borrowed("__parentId"), Out::string(p)));
    }
    serde_json::to_writer(&mut *line_out, &line)?;
    line_out.push(b'\n');
    let mut count = 1;
    let schema = Schema::served();
    for f in fields {
        let is_conn =
            f.ty.as_ref()
                .is_some_and(|t| schema.is_connection(t.base()));
        if !is_conn || !exec.applies(obj, f) {
            continue;
        }
        let Ok(Resolved::Connection(page)) = ctx.resolve(obj, f) else {
            continue;
        };
        let children = node_selection(f);
        for (child, _) in &page.items {
            // Grouped: children right after their parent. Ungrouped: after the whole page.
            let mut nested = Vec::new();
            let out: &mut Vec<u8> = if grouped {
                &mut *line_out
            } else {
                &mut *child_out
            };
            count += emit(
                exec,
                ctx,
                child,
                children,
                own_id.as_deref(),
                out,
                &mut nested,
                grouped,
            )?;
            out.extend_from_slice(&nested);
        }
    }
    Ok(count)
}
