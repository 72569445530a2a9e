//! The selection walk of the planner: fields looked up on their (possibly
//! fragment-narrowed) type, arguments coerced and checked, fragments
//! expanded, `@skip`/`@include` applied.

use graphql_parser::query::{Selection, SelectionSet, TypeCondition, Value as AstValue};
use serde_json::{Map, Number, Value, json};

use super::errors::{GqlError, Pos, undefined_field};
use super::plan::{PlanField, Planner, merge};
use super::values::{check_value, default_value, display_value};
use crate::simulator::schema::TypeKind;

impl<'a> Planner<'a> {
    pub(super) fn literal(&mut self, v: &AstValue<String>) -> Value {
        match v {
            AstValue::Variable(name) => {
                self.used_variables.insert(name.clone());
                match self.variables.get(name) {
                    Some(v) => v.clone(),
                    None => {
                        let message = format!(
                            "Variable ${name} is used by {} but not declared",
                            self.operation
                        );
                        self.errors
                            .push(GqlError::new(message, "variableNotDefined"));
                        Value::Null
                    }
                }
            }
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
    fn included(&mut self, directives: &[graphql_parser::query::Directive<String>]) -> bool {
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

    pub(super) fn selection(
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
                    self.used_fragments.insert(s.fragment_name.clone());
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
        let in_version = crate::simulator::schema::available(owner, &f.name, None, &self.version);
        let Some(def) = schema.field_def(owner, &f.name).filter(|_| in_version) else {
            self.errors.push(undefined_field(owner, &f.name).at(pos));
            return None;
        };
        let mut args = Map::new();
        for (name, value) in &f.arguments {
            let arg_in_version =
                crate::simulator::schema::available(owner, &f.name, Some(name), &self.version);
            let Some(arg) = def.arg(name).filter(|_| arg_in_version) else {
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
