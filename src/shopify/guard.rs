//! The read-only guard: shopsync may only read. Every document is parsed
//! before it leaves the process; queries pass, a mutation passes only when
//! each of its root fields is one of the two that manage our own bulk jobs,
//! and the inner document of a bulk job must itself be a query.
//! (DESIGN.md invariant 1; shopify-admin-api.md §3.1.)

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Value,
    parse_query,
};

/// The only mutations a read-only client may send.
pub const ALLOWED_MUTATIONS: [&str; 2] = ["bulkOperationRunQuery", "bulkOperationCancel"];

/// Why a document was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("refusing to send a GraphQL document that does not parse: {0}")]
    Unparseable(String),
    #[error(
        "refusing to send mutation field `{0}`: shopsync is read-only and may only run bulkOperationRunQuery and bulkOperationCancel"
    )]
    Mutation(String),
    #[error("refusing to send a subscription: shopsync is read-only and polls")]
    Subscription,
    #[error("refusing to start a bulk operation whose inner document is not a query: {0}")]
    BulkInner(String),
    #[error("the document uses fragment `{0}`, which it does not define")]
    UnknownFragment(String),
}

/// Checks a document (and, for bulk starts, the inner query it carries inline
/// or in `variables`) before it is sent.
pub fn check(document: &str, variables: &serde_json::Value) -> Result<(), GuardError> {
    let doc: Document<'_, String> =
        parse_query(document).map_err(|e| GuardError::Unparseable(e.to_string()))?;
    let fragments: HashMap<&str, &FragmentDefinition<'_, String>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    for definition in &doc.definitions {
        match definition {
            Definition::Operation(OperationDefinition::Mutation(m)) => {
                let mut roots = Vec::new();
                root_fields(&m.selection_set, &fragments, &mut roots)?;
                for (name, inner) in roots {
                    if !ALLOWED_MUTATIONS.contains(&name.as_str()) {
                        return Err(GuardError::Mutation(name));
                    }
                    if name == "bulkOperationRunQuery" {
                        check_bulk_inner(inner, variables)?;
                    }
                }
            }
            Definition::Operation(OperationDefinition::Subscription(_)) => {
                return Err(GuardError::Subscription);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks that a bulk job's inner document contains only queries.
pub fn check_inner_query(document: &str) -> Result<(), GuardError> {
    let doc: Document<'_, String> =
        parse_query(document).map_err(|e| GuardError::BulkInner(e.to_string()))?;
    for definition in &doc.definitions {
        match definition {
            Definition::Operation(OperationDefinition::Mutation(_)) => {
                return Err(GuardError::BulkInner("it is a mutation".into()));
            }
            Definition::Operation(OperationDefinition::Subscription(_)) => {
                return Err(GuardError::BulkInner("it is a subscription".into()));
            }
            _ => {}
        }
    }
    Ok(())
}

type RootField<'d> = (String, Option<&'d Value<'d, String>>);

/// The root fields of a selection, through fragments, each with its `query`
/// argument (only bulkOperationRunQuery has one).
fn root_fields<'d>(
    set: &'d SelectionSet<'d, String>,
    fragments: &HashMap<&str, &'d FragmentDefinition<'d, String>>,
    out: &mut Vec<RootField<'d>>,
) -> Result<(), GuardError> {
    for selection in &set.items {
        match selection {
            Selection::Field(f) => {
                let query_arg = f
                    .arguments
                    .iter()
                    .find(|(n, _)| n == "query")
                    .map(|(_, v)| v);
                out.push((f.name.clone(), query_arg));
            }
            Selection::InlineFragment(inline) => {
                root_fields(&inline.selection_set, fragments, out)?
            }
            Selection::FragmentSpread(spread) => {
                let fragment = fragments
                    .get(spread.fragment_name.as_str())
                    .ok_or_else(|| GuardError::UnknownFragment(spread.fragment_name.clone()))?;
                root_fields(&fragment.selection_set, fragments, out)?;
            }
        }
    }
    Ok(())
}

fn check_bulk_inner(
    arg: Option<&Value<'_, String>>,
    variables: &serde_json::Value,
) -> Result<(), GuardError> {
    let inner = match arg {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Variable(name)) => variables
            .get(name.as_str())
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| GuardError::BulkInner(format!("variable ${name} is not a string")))?
            .to_owned(),
        _ => return Err(GuardError::BulkInner("no query argument".into())),
    };
    check_inner_query(&inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_pass() {
        check("{ shop { name } }", &json!({})).unwrap();
        check(
            "query Q($n: Int) { orders(first: $n) { nodes { id } } }",
            &json!({"n": 1}),
        )
        .unwrap();
    }

    #[test]
    fn writes_are_refused_however_they_are_spelled() {
        let cases = [
            "mutation { orderUpdate(input: {id: \"x\"}) { order { id } } }",
            "mutation M { bulkOperationCancel(id: \"x\") { userErrors { message } } productDelete(input: {id: \"y\"}) { deletedProductId } }",
            "mutation { ...F } fragment F on Mutation { customerDelete(input: {id: \"z\"}) { deletedCustomerId } }",
            "mutation { ... on Mutation { bulkOperationRunMutation(mutation: \"x\", stagedUploadPath: \"y\") { bulkOperation { id } } } }",
        ];
        for doc in cases {
            assert!(
                matches!(check(doc, &json!({})), Err(GuardError::Mutation(_))),
                "{doc}"
            );
        }
        assert_eq!(
            check("subscription { x }", &json!({})),
            Err(GuardError::Subscription)
        );
        assert!(matches!(
            check("mutation {", &json!({})),
            Err(GuardError::Unparseable(_))
        ));
    }

    #[test]
    fn bulk_jobs_pass_only_with_an_inner_query() {
        let doc = "mutation Run($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { message } } }";
        check(doc, &json!({"q": "{ orders { edges { node { id } } } }"})).unwrap();
        let bad = json!({"q": "mutation { orderCancel(orderId: \"x\") { job { id } } }"});
        assert!(matches!(check(doc, &bad), Err(GuardError::BulkInner(_))));
        let inline = "mutation { bulkOperationRunQuery(query: \"mutation { a }\") { bulkOperation { id } } }";
        assert!(matches!(
            check(inline, &json!({})),
            Err(GuardError::BulkInner(_))
        ));
        check("mutation { bulkOperationCancel(id: \"gid://shopify/BulkOperation/1\") { bulkOperation { status } } }", &json!({})).unwrap();
    }
}
