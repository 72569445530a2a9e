//! Parses a GraphQL document and validates it against the served schema,
//! producing a plan: the selected operation with variables substituted,
//! fragments expanded into type-conditioned fields and defaults applied.
//! Validation messages follow graphql-ruby, which Shopify runs (reference §4.2).

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet, Type,
    TypeCondition, Value as AstValue,
};
use serde_json::{Map, Number, Value, json};

use super::errors::{GqlError, Pos, undefined_field};
use super::values::{check_value, default_value, display_value};
use crate::simulator::schema::{Schema, TypeKind, TypeRef};

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
}

#[derive(Debug)]
pub enum PlanFailure {
    /// The document does not parse.
    Syntax(GqlError),
    /// It parses but does not validate against the schema.
    Invalid(Vec<GqlError>),
}

struct Planner<'a> {
    schema: &'a Schema,
    fragments: HashMap<String, &'a FragmentDefinition<'a, String>>,
    variables: Map<String, Value>,
    errors: Vec<GqlError>,
    depth: usize,
}

pub fn plan(
    schema: &Schema,
    query: &str,
    variables: &Map<String, Value>,
    operation_name: Option<&str>,
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
    let mut planner = Planner {
        schema,
        fragments,
        variables: Map::new(),
        errors: vec![],
        depth: 0,
    };
    for def in var_defs {
        let provided = variables.get(&def.name).cloned();
        let value = match (provided, &def.default_value) {
            (Some(v), _) => v,
            (None, Some(d)) => planner.literal(d),
            (None, None) => Value::Null,
        };
        if value.is_null() && matches!(def.var_type, Type::NonNullType(_)) {
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
    if fields.is_empty() && planner.errors.is_empty() {
        planner
            .errors
            .push(GqlError::new("Selection set cannot be empty", "BAD_REQUEST").at(pos));
    }
    if planner.errors.is_empty() {
        Ok(Plan { mutation, fields })
    } else {
        Err(PlanFailure::Invalid(planner.errors))
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

impl<'a> Planner<'a> {
    fn literal(&self, v: &AstValue<String>) -> Value {
        match v {
            AstValue::Variable(name) => self.variables.get(name).cloned().unwrap_or(Value::Null),
            AstValue::Int(n) => n.as_i64().map_or(Value::Null, |i| Value::Number(i.into())),
            AstValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            AstValue::String(s) => Value::String(s.clone()),
            AstValue::Boolean(b) => Value::Bool(*b),
            AstValue::Null => Value::Null,
            AstValue::Enum(e) => Value::String(e.clone()),
            AstValue::List(items) => Value::Array(items.iter().map(|i| self.literal(i)).collect()),
            AstValue::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.literal(v)))
                    .collect(),
            ),
        }
    }

    /// `@skip(if:)` / `@include(if:)`.
    fn included(&self, directives: &[graphql_parser::query::Directive<String>]) -> bool {
        directives.iter().all(|d| {
            let cond = d
                .arguments
                .iter()
                .find(|(n, _)| n == "if")
                .map(|(_, v)| self.literal(v));
            !matches!(
                (d.name.as_str(), cond.and_then(|c| c.as_bool())),
                ("skip", Some(true)) | ("include", Some(false))
            )
        })
    }

    fn selection(
        &mut self,
        parent: &str,
        set: &SelectionSet<'a, String>,
        condition: Option<&str>,
    ) -> Vec<PlanField> {
        let mut out: Vec<PlanField> = Vec::new();
        self.depth += 1;
        if self.depth > 30 {
            self.errors.push(GqlError::new(
                "Query has too many levels of nesting",
                "BAD_REQUEST",
            ));
            self.depth -= 1;
            return out;
        }
        for item in &set.items {
            match item {
                Selection::Field(f) if self.included(&f.directives) => {
                    let owner = condition.unwrap_or(parent);
                    if let Some(pf) = self.field(owner, f, condition) {
                        merge(&mut out, pf);
                    }
                }
                Selection::FragmentSpread(s) if self.included(&s.directives) => {
                    let Some(frag) = self.fragments.get(&s.fragment_name).copied() else {
                        self.errors.push(
                            GqlError::new(
                                format!("Fragment {} was used, but not defined", s.fragment_name),
                                "useAndDefineFragment",
                            )
                            .at(s.position.into()),
                        );
                        continue;
                    };
                    let TypeCondition::On(on) = &frag.type_condition;
                    if let Some(cond) = self.condition(parent, condition, on, s.position.into()) {
                        for pf in self.selection(parent, &frag.selection_set, cond.as_deref()) {
                            merge(&mut out, pf);
                        }
                    }
                }
                Selection::InlineFragment(i) if self.included(&i.directives) => {
                    let cond = match &i.type_condition {
                        Some(TypeCondition::On(on)) => {
                            self.condition(parent, condition, on, i.position.into())
                        }
                        None => Some(condition.map(str::to_string)),
                    };
                    if let Some(cond) = cond {
                        for pf in self.selection(parent, &i.selection_set, cond.as_deref()) {
                            merge(&mut out, pf);
                        }
                    }
                }
                _ => {}
            }
        }
        self.depth -= 1;
        out
    }

    /// The effective type condition for a fragment `on` inside `parent`
    /// (already narrowed to `outer`); `None` when the fragment is invalid.
    fn condition(
        &mut self,
        parent: &str,
        outer: Option<&str>,
        on: &str,
        pos: Pos,
    ) -> Option<Option<String>> {
        if self.schema.get(on).is_none() {
            self.errors.push(
                GqlError::new(
                    format!("No such type {on}, so it can't be a fragment condition"),
                    "undefinedType",
                )
                .at(pos),
            );
            return None;
        }
        let narrowed = outer.unwrap_or(parent);
        let possible = self.schema.satisfies(on, narrowed) || self.schema.satisfies(narrowed, on);
        if !possible {
            self.errors.push(
                GqlError::new(
                    format!("Fragment on {on} can't be spread inside {narrowed}"),
                    "fragmentSpreadsImpossible",
                )
                .at(pos),
            );
            return None;
        }
        // The more specific of the two conditions wins; none is needed on the parent itself.
        let specific = if self.schema.satisfies(narrowed, on) {
            narrowed
        } else {
            on
        };
        Some((specific != parent).then(|| specific.to_string()))
    }

    fn field(
        &mut self,
        owner: &str,
        f: &graphql_parser::query::Field<'a, String>,
        condition: Option<&str>,
    ) -> Option<PlanField> {
        let pos: Pos = f.position.into();
        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
        if f.name == "__typename" {
            return Some(PlanField {
                key,
                name: f.name.clone(),
                args: Map::new(),
                condition: condition.map(str::to_string),
                children: vec![],
                ty: None,
                defaulted: vec![],
                pos,
            });
        }
        let schema = self.schema;
        let Some(def) = schema.get(owner).and_then(|t| t.field(&f.name)) else {
            self.errors.push(undefined_field(owner, &f.name).at(pos));
            return None;
        };
        let mut args = Map::new();
        for (name, value) in &f.arguments {
            let Some(arg) = def.arg(name) else {
                self.errors.push(
                    GqlError::new(
                        format!("Field '{}' doesn't accept argument '{name}'", f.name),
                        "argumentNotAccepted",
                    )
                    .at(pos)
                    .ext("name", json!(f.name))
                    .ext("typeName", json!("Field"))
                    .ext("argumentName", json!(name)),
                );
                continue;
            };
            let v = self.literal(value);
            if let Err(expected) = check_value(schema, &arg.ty, &v) {
                self.errors.push(
                    GqlError::new(
                        format!(
                            "Argument '{name}' on Field '{}' has an invalid value ({}). Expected type '{expected}'.",
                            f.name,
                            display_value(value)
                        ),
                        "argumentLiteralsIncompatible",
                    )
                    .at(pos)
                    .ext("typeName", json!("Field"))
                    .ext("argumentName", json!(name)),
                );
                continue;
            }
            args.insert(name.clone(), v);
        }
        let mut missing = Vec::new();
        let mut defaulted = Vec::new();
        for arg in &def.args {
            if args.get(&arg.name).is_none_or(Value::is_null) {
                if let Some(d) = &arg.default {
                    args.insert(arg.name.clone(), default_value(d));
                    defaulted.push(arg.name.clone());
                } else if arg.ty.is_non_null() {
                    missing.push(arg.name.clone());
                }
            }
        }
        if !missing.is_empty() {
            self.errors.push(
                GqlError::new(
                    format!(
                        "Field '{}' is missing required arguments: {}",
                        f.name,
                        missing.join(", ")
                    ),
                    "missingRequiredArguments",
                )
                .at(pos)
                .ext("className", json!("Field"))
                .ext("name", json!(f.name))
                .ext("arguments", json!(missing.join(", "))),
            );
        }
        let base = def.ty.base();
        let leaf = schema
            .get(base)
            .is_some_and(|t| matches!(t.kind, TypeKind::Scalar | TypeKind::Enum));
        let has_selection = !f.selection_set.items.is_empty();
        let children = if leaf {
            if has_selection {
                self.errors.push(
                    GqlError::new(
                        format!("Selections can't be made on scalars (field '{}' returns {base} but has selections [...])", f.name),
                        "selectionMismatch",
                    )
                    .at(pos),
                );
            }
            vec![]
        } else {
            if !has_selection {
                self.errors.push(
                    GqlError::new(
                        format!(
                            "Field must have selections (field '{}' returns {} but has no selections. Did you mean '{} {{ ... }}'?)",
                            f.name, def.ty, f.name
                        ),
                        "selectionMismatch",
                    )
                    .at(pos),
                );
            }
            self.selection(base, &f.selection_set, None)
        };
        Some(PlanField {
            key,
            name: f.name.clone(),
            args,
            condition: condition.map(str::to_string),
            children,
            ty: Some(def.ty.clone()),
            defaulted,
            pos,
        })
    }
}

/// Fields with the same response key and condition are one field (spec "field merging").
fn merge(out: &mut Vec<PlanField>, field: PlanField) {
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
    }
}
