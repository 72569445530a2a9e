//! Parses a GraphQL document and validates it against the served schema,
//! producing a plan: the selected operation with variables substituted,
//! fragments expanded into type-conditioned fields and defaults applied.
//! Validation messages follow graphql-ruby, which Shopify runs (reference §4.2).

use std::collections::{HashMap, HashSet};

use graphql_parser::query::{Definition, Document, FragmentDefinition, OperationDefinition, Type};
use serde_json::{Map, Value, json};

use super::errors::{GqlError, Pos};
use super::values::{check_value, type_ref};
use crate::simulator::schema::{Schema, TypeRef};

/// One field to resolve, with its arguments already coerced.
#[derive(Debug, Clone)]
pub struct PlanField {
    /// Response key: the alias, else the name.
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
    /// Resolve only on objects of this type (from an inline fragment or spread).
    pub condition: Option<String>,
    pub children: Vec<PlanField>,
    /// Return type; `None` for `__typename`.
    pub ty: Option<TypeRef>,
    pub pos: Pos,
    /// Arguments the query left out and the schema default filled in.
    pub defaulted: Vec<String>,
}

impl PlanField {
    pub fn arg_i64(&self, name: &str) -> Option<i64> {
        self.args.get(name).and_then(Value::as_i64)
    }
    pub fn arg_str(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Value::as_str)
    }
    pub fn arg_bool(&self, name: &str) -> Option<bool> {
        self.args.get(name).and_then(Value::as_bool)
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub mutation: bool,
    pub fields: Vec<PlanField>,
    /// The operation's name, if it has one.
    pub name: Option<String>,
}

#[derive(Debug)]
pub enum PlanFailure {
    /// The document does not parse.
    Syntax(GqlError),
    /// It parses but does not validate against the schema.
    Invalid(Vec<GqlError>),
}

/// Planning state for one operation; the selection walk is in `select.rs`.
pub(super) struct Planner<'a> {
    pub(super) schema: &'a Schema,
    pub(super) fragments: HashMap<String, &'a FragmentDefinition<'a, String>>,
    pub(super) variables: Map<String, Value>,
    pub(super) errors: Vec<GqlError>,
    pub(super) depth: usize,
    /// `"query Name"` or `"anonymous query"`, for graphql-ruby's messages.
    pub(super) operation: String,
    pub(super) used_variables: HashSet<String>,
    pub(super) used_fragments: HashSet<String>,
    /// The served API version; gates fields added in later versions.
    pub(super) version: String,
}

/// Plans against the newest served version.
pub fn plan(
    schema: &Schema,
    query: &str,
    variables: &Map<String, Value>,
    operation_name: Option<&str>,
) -> Result<Plan, PlanFailure> {
    plan_for_version(schema, query, variables, operation_name, "unstable")
}

/// Plans against `version`: fields added later are unknown there (`schema::VERSION_GATES`).
pub fn plan_for_version(
    schema: &Schema,
    query: &str,
    variables: &Map<String, Value>,
    operation_name: Option<&str>,
    version: &str,
) -> Result<Plan, PlanFailure> {
    let doc: Document<String> = graphql_parser::parse_query(query).map_err(|e| {
        PlanFailure::Syntax(GqlError::new(
            format!("syntax error, {}", e.to_string().trim()),
            "PARSE_ERROR",
        ))
    })?;
    let mut operations = Vec::new();
    let mut fragments = HashMap::new();
    for def in &doc.definitions {
        match def {
            Definition::Operation(op) => operations.push(op),
            Definition::Fragment(f) => {
                fragments.insert(f.name.clone(), f);
            }
        }
    }
    let op =
        select_operation(&operations, operation_name).map_err(|e| PlanFailure::Invalid(vec![e]))?;
    let (mutation, var_defs, selection, pos) = match op {
        OperationDefinition::SelectionSet(s) => (false, &[][..], s, Pos::from(s.span.0)),
        OperationDefinition::Query(q) => (
            false,
            &q.variable_definitions[..],
            &q.selection_set,
            q.position.into(),
        ),
        OperationDefinition::Mutation(m) => (
            true,
            &m.variable_definitions[..],
            &m.selection_set,
            m.position.into(),
        ),
        OperationDefinition::Subscription(s) => {
            return Err(PlanFailure::Invalid(vec![
                GqlError::new("Subscriptions are not supported", "BAD_REQUEST")
                    .at(s.position.into()),
            ]));
        }
    };
    let single_operation = operations.len() == 1;
    let mut planner = Planner {
        schema,
        fragments,
        variables: Map::new(),
        errors: vec![],
        depth: 0,
        operation: operation_label(op),
        used_variables: HashSet::new(),
        used_fragments: HashSet::new(),
        version: version.to_string(),
    };
    for def in var_defs {
        let provided = variables.get(&def.name).cloned();
        let value = match (provided, &def.default_value) {
            (Some(v), _) => v,
            (None, Some(d)) => planner.literal(d),
            (None, None) => Value::Null,
        };
        let declared = type_ref(&def.var_type);
        let coercible = check_value(schema, &declared, &value).is_ok();
        if !coercible && !value.is_null() {
            planner.errors.push(
                GqlError::new(
                    format!(
                        "Variable ${} of type {} was provided invalid value",
                        def.name, def.var_type
                    ),
                    "INVALID_VARIABLE",
                )
                .at(def.position.into())
                .ext("value", value.clone())
                .ext(
                    "problems",
                    json!([{"path": [], "explanation": format!("Could not coerce value {value} to {}", declared.base())}]),
                ),
            );
        } else if value.is_null() && matches!(def.var_type, Type::NonNullType(_)) {
            planner.errors.push(
                GqlError::new(
                    format!(
                        "Variable ${} of type {} was provided invalid value",
                        def.name, def.var_type
                    ),
                    "INVALID_VARIABLE",
                )
                .at(def.position.into())
                .ext("value", Value::Null)
                .ext(
                    "problems",
                    json!([{"path": [], "explanation": "Expected value to not be null"}]),
                ),
            );
        }
        planner.variables.insert(def.name.clone(), value);
    }
    let root = if mutation { "Mutation" } else { "QueryRoot" };
    let fields = planner.selection(root, selection, None);
    for def in var_defs {
        if !planner.used_variables.contains(&def.name) {
            let message = format!(
                "Variable ${} is declared by {} but not used",
                def.name, planner.operation
            );
            planner
                .errors
                .push(GqlError::new(message, "variableNotUsed").at(def.position.into()));
        }
    }
    if single_operation {
        let mut unused: Vec<&String> = planner
            .fragments
            .keys()
            .filter(|f| !planner.used_fragments.contains(*f))
            .collect();
        unused.sort();
        for name in unused {
            let message = format!("Fragment {name} was defined, but not used");
            planner
                .errors
                .push(GqlError::new(message, "useAndDefineFragment"));
        }
    }
    if fields.is_empty() && planner.errors.is_empty() {
        planner
            .errors
            .push(GqlError::new("Selection set cannot be empty", "BAD_REQUEST").at(pos));
    }
    if planner.errors.is_empty() {
        Ok(Plan {
            mutation,
            fields,
            name: operation_name_of(op),
        })
    } else {
        Err(PlanFailure::Invalid(planner.errors))
    }
}

fn operation_name_of(op: &OperationDefinition<String>) -> Option<String> {
    match op {
        OperationDefinition::Query(q) => q.name.clone(),
        OperationDefinition::Mutation(m) => m.name.clone(),
        OperationDefinition::Subscription(s) => s.name.clone(),
        OperationDefinition::SelectionSet(_) => None,
    }
}

fn operation_label(op: &OperationDefinition<String>) -> String {
    let (kind, name) = match op {
        OperationDefinition::Query(q) => ("query", q.name.clone()),
        OperationDefinition::Mutation(m) => ("mutation", m.name.clone()),
        OperationDefinition::Subscription(s) => ("subscription", s.name.clone()),
        OperationDefinition::SelectionSet(_) => ("query", None),
    };
    match name {
        Some(n) => format!("{kind} {n}"),
        None => format!("anonymous {kind}"),
    }
}

fn select_operation<'a>(
    ops: &[&'a OperationDefinition<'a, String>],
    name: Option<&str>,
) -> Result<&'a OperationDefinition<'a, String>, GqlError> {
    let name_of = |op: &OperationDefinition<String>| match op {
        OperationDefinition::Query(q) => q.name.clone(),
        OperationDefinition::Mutation(m) => m.name.clone(),
        OperationDefinition::Subscription(s) => s.name.clone(),
        OperationDefinition::SelectionSet(_) => None,
    };
    match name.filter(|n| !n.is_empty()) {
        Some(n) => ops
            .iter()
            .find(|op| name_of(op).as_deref() == Some(n))
            .copied()
            .ok_or_else(|| GqlError::new(format!("No operation named \"{n}\""), "BAD_REQUEST")),
        None if ops.len() == 1 => Ok(ops[0]),
        None if ops.is_empty() => Err(GqlError::new(
            "No operations in query document",
            "BAD_REQUEST",
        )),
        None => Err(GqlError::new(
            "An operation name is required when the document contains more than one operation",
            "BAD_REQUEST",
        )),
    }
}

/// Fields with the same response key and condition are one field (spec "field merging").
pub(super) fn merge(out: &mut Vec<PlanField>, field: PlanField) {
    if let Some(existing) = out
        .iter_mut()
        .find(|f| f.key == field.key && f.condition == field.condition)
    {
        for child in field.children {
            merge(&mut existing.children, child);
        }
    } else {
        out.push(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(q: &str, vars: Value) -> Result<Plan, PlanFailure> {
        let vars = vars.as_object().cloned().unwrap_or_default();
        plan(Schema::served(), q, &vars, None)
    }

    #[test]
    fn fragments_aliases_and_variables_become_one_plan() {
        let p = plan_of(
            "query Q($n: Int!, $id: ID!) { recent: orders(first: $n) { nodes { ...F } }
               node(id: $id) { id ... on Order { name } ... on Product { title } } }
             fragment F on Order { id name }",
            json!({"n": 5, "id": "gid://shopify/Order/1"}),
        )
        .expect("valid");
        assert_eq!(p.fields[0].key, "recent");
        assert_eq!(p.fields[0].arg_i64("first"), Some(5));
        assert_eq!(p.fields[0].arg_str("sortKey"), Some("PROCESSED_AT"));
        let node = &p.fields[1];
        assert_eq!(node.children.len(), 3);
        assert_eq!(node.children[1].condition.as_deref(), Some("Order"));
    }

    #[test]
    fn variables_are_checked_against_their_declared_types() {
        match plan_of(
            "query($n: Int!) { orders(first: $n) { nodes { id } } }",
            json!({"n": "ten"}),
        ) {
            Err(PlanFailure::Invalid(errs)) => {
                assert_eq!(errs[0].code(), Some("INVALID_VARIABLE"));
                assert_eq!(
                    errs[0].message,
                    "Variable $n of type Int! was provided invalid value"
                );
            }
            other => panic!("expected INVALID_VARIABLE, got {other:?}"),
        }
    }

    #[test]
    fn invalid_documents_report_graphql_ruby_codes() {
        let codes = |q: &str| match plan_of(q, json!({})) {
            Err(PlanFailure::Invalid(errs)) => errs
                .iter()
                .map(|e| e.code().unwrap_or("").to_string())
                .collect(),
            Err(PlanFailure::Syntax(_)) => vec!["syntax".to_string()],
            Ok(_) => vec![],
        };
        assert_eq!(codes("{ shop { nope } }"), vec!["undefinedField"]);
        assert_eq!(codes("{ order { id } }"), vec!["missingRequiredArguments"]);
        assert_eq!(
            codes("{ orders(first: 1, sortKey: NOPE) { nodes { id } } }"),
            vec!["argumentLiteralsIncompatible"]
        );
        assert_eq!(
            codes("{ orders(frist: 1) { nodes { id } } }"),
            vec!["argumentNotAccepted"]
        );
        assert_eq!(codes("{ shop }"), vec!["selectionMismatch"]);
        assert_eq!(codes("{ shop { name "), vec!["syntax"]);
        assert_eq!(
            codes("query Q { orders(first: $n) { nodes { id } } }"),
            vec!["variableNotDefined"]
        );
        assert_eq!(
            codes("query Q($n: Int) { shop { id } }"),
            vec!["variableNotUsed"]
        );
        assert_eq!(
            codes("{ shop { id } } fragment F on Shop { name }"),
            vec!["useAndDefineFragment"]
        );
    }
}
