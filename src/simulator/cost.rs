//! Shopify's query cost (reference §2.3, checklist §9.4): scalars and enums 0,
//! objects 1, connections `2 + n × node`, nested connections multiply,
//! interfaces cost their most expensive branch, mutations 10. `pageInfo`,
//! `edges` and `cursor` are free. The actual cost is counted by the executor.

use super::graphql::plan::{Plan, PlanField};
use super::schema::{Schema, TypeKind};

pub const MUTATION_COST: u64 = 10;

/// The requested (worst-case) cost of a planned operation.
pub fn requested(plan: &Plan, schema: &Schema) -> u64 {
    if plan.mutation {
        return MUTATION_COST * plan.fields.iter().filter(|f| f.ty.is_some()).count().max(1) as u64;
    }
    selection(&plan.fields, schema)
}

/// `extensions.cost.fields` for `Shopify-GraphQL-Cost-Debug: 1` (reference §2.3):
/// every field that costs something, with its own and its children's cost.
pub fn breakdown(plan: &Plan, schema: &Schema) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    if !plan.mutation {
        for f in &plan.fields {
            walk(f, schema, &mut vec![], &mut out);
        }
    }
    out
}

fn walk(f: &PlanField, schema: &Schema, path: &mut Vec<String>, out: &mut Vec<serde_json::Value>) {
    path.push(f.key.clone());
    let total = field(f, schema);
    if total > 0 {
        let defined = match &f.ty {
            Some(t) if schema.is_connection(t.base()) => 2,
            Some(_) => 1,
            None => 0,
        };
        out.push(serde_json::json!({
            "path": path,
            "definedCost": defined,
            "requestedTotalCost": total,
            "requestedChildrenCost": total.saturating_sub(defined),
        }));
        for c in &f.children {
            walk(c, schema, path, out);
        }
    }
    path.pop();
}

/// Cost of a selection: unconditioned fields add up; type-conditioned groups
/// (fragments on an interface) cost their most expensive branch.
fn selection(fields: &[PlanField], schema: &Schema) -> u64 {
    let plain: u64 = fields
        .iter()
        .filter(|f| f.condition.is_none())
        .map(|f| field(f, schema))
        .sum();
    let mut branches: Vec<(&str, u64)> = Vec::new();
    for f in fields {
        if let Some(cond) = f.condition.as_deref() {
            let c = field(f, schema);
            match branches.iter_mut().find(|(n, _)| *n == cond) {
                Some((_, total)) => *total += c,
                None => branches.push((cond, c)),
            }
        }
    }
    plain + branches.iter().map(|(_, c)| *c).max().unwrap_or(0)
}

fn field(f: &PlanField, schema: &Schema) -> u64 {
    let Some(ty) = &f.ty else { return 0 };
    let base = ty.base();
    match schema.get(base).map(|t| &t.kind) {
        Some(TypeKind::Scalar | TypeKind::Enum) | None => 0,
        _ if schema.is_connection(base) => {
            let n = f
                .arg_i64("first")
                .or_else(|| f.arg_i64("last"))
                .unwrap_or(0)
                .max(0) as u64;
            2 + n * (1 + node_selection(f, schema))
        }
        _ if ty.is_list() => {
            // A plain list of objects with `first` is sized like a connection page [inferred].
            let n = f.arg_i64("first").unwrap_or(1).max(0) as u64;
            n * (1 + selection(&f.children, schema))
        }
        _ => 1 + selection(&f.children, schema),
    }
}

/// The cost of one node's sub-selection, whether read through `edges { node }` or `nodes`.
fn node_selection(conn: &PlanField, schema: &Schema) -> u64 {
    let mut best = 0;
    for c in &conn.children {
        match c.name.as_str() {
            "nodes" => best = best.max(selection(&c.children, schema)),
            "edges" => {
                for e in c.children.iter().filter(|e| e.name == "node") {
                    best = best.max(selection(&e.children, schema));
                }
            }
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::graphql::plan::plan;

    fn cost(q: &str) -> u64 {
        let p = plan(Schema::served(), q, &serde_json::Map::new(), None).expect("valid query");
        requested(&p, Schema::served())
    }

    /// The worked examples of reference §2.3.
    #[test]
    fn worked_examples_from_the_reference() {
        assert_eq!(cost("{ shop { name } }"), 1);
        assert_eq!(
            cost("{ orders(first: 1) { nodes { id name } pageInfo { hasNextPage endCursor } } }"),
            3
        );
        assert_eq!(
            cost(
                "{ products(first: 10) { nodes { title variants(first: 5) { nodes { price } } } } }"
            ),
            82
        );
        assert_eq!(
            cost("{ orders(first: 250) { nodes { id updatedAt customer { id } } } }"),
            502
        );
        assert_eq!(
            cost("{ orders(first: 250) { nodes { id totalPriceSet { shopMoney { amount } } } } }"),
            752
        );
        assert_eq!(
            cost("{ orders(first: 50) { nodes { id lineItems(first: 20) { nodes { sku } } } } }"),
            1152
        );
        assert_eq!(
            cost("{ orders(first: 40) { nodes { id lineItems(first: 20) { nodes { sku } } } } }"),
            922
        );
        assert_eq!(
            cost(
                "mutation { bulkOperationRunQuery(query: \"{ shop { id } }\") { userErrors { message } } }"
            ),
            10
        );
        assert_eq!(
            cost("{ orders(first: 2) { edges { cursor node { id } } } }"),
            4
        );
    }

    #[test]
    fn interfaces_cost_their_most_expensive_branch() {
        let q = "{ node(id: \"gid://shopify/Order/1\") { id ... on Order { customer { id } totalPriceSet { shopMoney { amount } } } ... on Product { title } } }";
        assert_eq!(cost(q), 1 + 3);
    }
}
