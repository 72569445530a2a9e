//! The inner-query rules of `bulkOperationRunQuery`, with Shopify's exact
//! messages (reference §3.7).

use crate::simulator::graphql::plan::{Plan, PlanField};
use crate::simulator::schema::Schema;

pub const NOT_QUERY: &str = "Invalid operation type. Only `query` operations are supported.";
pub const NO_CONNECTION: &str = "Bulk queries must contain at least one connection.";
pub const TOO_MANY: &str = "Bulk queries cannot contain more than 5 connections.";
pub const TOO_DEEP: &str =
    "Bulk queries cannot contain connections with a nesting depth greater than 2.";
pub const TOP_LEVEL_NODE: &str = "Bulk queries cannot contain a top level `node` field.";
pub const IN_LIST: &str =
    "Queries that contain a connection field within a list field are not currently supported.";

/// Checks a planned inner query; `Err` carries the message for `userErrors`.
pub fn check(plan: &Plan, schema: &Schema) -> Result<(), String> {
    if plan.mutation {
        return Err(NOT_QUERY.to_string());
    }
    if plan
        .fields
        .iter()
        .any(|f| f.name == "node" || f.name == "nodes")
    {
        return Err(TOP_LEVEL_NODE.to_string());
    }
    let mut walk = Walk {
        schema,
        connections: 0,
        nodes_used: vec![],
        no_id: vec![],
        too_deep: false,
        in_list: false,
    };
    for f in &plan.fields {
        walk.field(f, 0, false);
    }
    if walk.connections == 0 {
        return Err(NO_CONNECTION.to_string());
    }
    if walk.connections > 5 {
        return Err(TOO_MANY.to_string());
    }
    if walk.too_deep {
        return Err(TOO_DEEP.to_string());
    }
    if walk.in_list {
        return Err(IN_LIST.to_string());
    }
    if !walk.nodes_used.is_empty() {
        return Err(format!(
            "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: 'orders {{ edges {{ node {{'. Selecting via 'nodes' is not supported. Invalid connection fields: {}.",
            walk.nodes_used
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !walk.no_id.is_empty() {
        return Err(format!(
            "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': {}.",
            walk.no_id.join(", ")
        ));
    }
    Ok(())
}

struct Walk<'s> {
    schema: &'s Schema,
    connections: usize,
    nodes_used: Vec<String>,
    no_id: Vec<String>,
    too_deep: bool,
    in_list: bool,
}

impl Walk<'_> {
    /// `depth` counts the connections above this field; `under_list` whether a list field is above it.
    fn field(&mut self, f: &PlanField, depth: usize, under_list: bool) {
        let Some(ty) = &f.ty else { return };
        if self.schema.is_connection(ty.base()) {
            self.connections += 1;
            if depth + 1 > 2 {
                self.too_deep = true;
            }
            if under_list {
                self.in_list = true;
            }
            for part in &f.children {
                match part.name.as_str() {
                    "nodes" => self.nodes_used.push(f.name.clone()),
                    "edges" => {
                        for node in part.children.iter().filter(|n| n.name == "node") {
                            let nested = node.children.iter().any(|c| {
                                c.ty.as_ref()
                                    .is_some_and(|t| self.schema.is_connection(t.base()))
                            });
                            let has_id = node
                                .children
                                .iter()
                                .any(|c| c.name == "id" && c.key == "id");
                            if nested && !has_id {
                                self.no_id.push(f.name.clone());
                            }
                            for c in &node.children {
                                self.field(c, depth + 1, false);
                            }
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
        let list = ty.is_list();
        for c in &f.children {
            self.field(c, depth, under_list || list);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::graphql::plan::plan;

    fn verdict(q: &str) -> Result<(), String> {
        let p = plan(Schema::served(), q, &serde_json::Map::new(), None).expect("valid GraphQL");
        check(&p, Schema::served())
    }

    #[test]
    fn shopify_bulk_rules_and_messages() {
        assert!(
            verdict("{ orders { edges { node { id lineItems { edges { node { id sku } } } } } } }")
                .is_ok()
        );
        assert_eq!(verdict("{ shop { id } }").unwrap_err(), NO_CONNECTION);
        assert_eq!(
            verdict("{ node(id: \"gid://shopify/Order/1\") { id } }").unwrap_err(),
            TOP_LEVEL_NODE
        );
        assert!(
            verdict("{ orders { nodes { id } } }")
                .unwrap_err()
                .contains("Invalid connection fields: 'orders'.")
        );
        assert!(
            verdict("{ orders { edges { node { name lineItems { edges { node { id } } } } } } }")
                .unwrap_err()
                .ends_with("Connection fields without 'id': orders.")
        );
        assert_eq!(
            verdict("{ orders { edges { node { id refunds { id refundLineItems { edges { node { id } } } } } } } }")
                .unwrap_err(),
            IN_LIST
        );
        assert_eq!(
            verdict("{ products { edges { node { id variants { edges { node { id inventoryItem { id inventoryLevels { edges { node { id } } } } } } } } } } }")
                .unwrap_err(),
            TOO_DEEP
        );
        assert_eq!(
            verdict("mutation { bulkOperationCancel(id: \"x\") { userErrors { message } } }")
                .unwrap_err(),
            NOT_QUERY
        );
    }
}
