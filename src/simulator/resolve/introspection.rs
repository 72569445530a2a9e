//! Introspection (`__schema`, `__type`) over the served schema, so GraphiQL
//! and code generators work against the simulator. The `__` types themselves
//! come from Shopify's file like every other served type. Descriptions are
//! not carried (null); the directive list is empty.

use super::{Obj, Result, not_served, obj, val};
use crate::simulator::graphql::execute::Resolved;
use crate::simulator::graphql::plan::PlanField;
use crate::simulator::schema::{ArgDef, FieldDef, Schema, TypeDef, TypeKind, TypeRef};

/// A `__Type`: a named type, or a list / non-null wrapper around a type reference.
#[derive(Clone, Copy)]
pub enum MetaType {
    Named(&'static TypeDef),
    List(&'static TypeRef),
    NonNull(&'static TypeRef),
}

impl MetaType {
    /// The `__Type` for a field's or argument's type reference.
    pub fn of(t: &'static TypeRef) -> Option<MetaType> {
        match t {
            TypeRef::Named(n) => Schema::served().get(n).map(MetaType::Named),
            TypeRef::List(inner) => Some(MetaType::List(inner)),
            TypeRef::NonNull(inner) => Some(MetaType::NonNull(inner)),
        }
    }
}

fn schema() -> &'static Schema {
    Schema::served()
}

fn list<'a>(items: impl Iterator<Item = Obj<'a>>) -> Result<'a> {
    Ok(Resolved::List(items.collect()))
}

fn maybe<'a>(o: Option<Obj<'a>>) -> Result<'a> {
    Ok(o.map_or(Resolved::Null, Resolved::Object))
}

pub fn root_field<'a>(f: &PlanField) -> Result<'a> {
    match f.name.as_str() {
        "__schema" => obj(Obj::MetaSchema),
        _ => maybe(
            f.arg_str("name")
                .and_then(|n| schema().get(n))
                .map(|t| Obj::MetaType(MetaType::Named(t))),
        ),
    }
}

pub fn schema_field<'a>(name: &str) -> Result<'a> {
    match name {
        "description" | "subscriptionType" => val(serde_json::Value::Null),
        "types" => {
            let mut types: Vec<&'static TypeDef> = schema().types.values().collect();
            types.sort_by(|a, b| a.name.cmp(&b.name));
            list(types.into_iter().map(|t| Obj::MetaType(MetaType::Named(t))))
        }
        "queryType" => maybe(
            schema()
                .get("QueryRoot")
                .map(|t| Obj::MetaType(MetaType::Named(t))),
        ),
        "mutationType" => maybe(
            schema()
                .get("Mutation")
                .map(|t| Obj::MetaType(MetaType::Named(t))),
        ),
        "directives" => list(std::iter::empty()),
        other => Err(not_served("__Schema", other)),
    }
}

fn include_deprecated(f: &PlanField) -> bool {
    f.arg_bool("includeDeprecated").unwrap_or(false)
}

pub fn type_field<'a>(t: MetaType, f: &PlanField) -> Result<'a> {
    let named = match t {
        MetaType::Named(n) => Some(n),
        _ => None,
    };
    let kind = |n: &TypeDef| match n.kind {
        TypeKind::Scalar => "SCALAR",
        TypeKind::Enum => "ENUM",
        TypeKind::Object => "OBJECT",
        TypeKind::Interface => "INTERFACE",
    };
    let composite = named.filter(|n| matches!(n.kind, TypeKind::Object | TypeKind::Interface));
    match f.name.as_str() {
        "kind" => val(match t {
            MetaType::Named(n) => kind(n),
            MetaType::List(_) => "LIST",
            MetaType::NonNull(_) => "NON_NULL",
        }),
        "name" => val(named.map(|n| n.name.clone())),
        "description" | "specifiedByURL" | "inputFields" | "isOneOf" => {
            val(serde_json::Value::Null)
        }
        "fields" => match composite {
            Some(n) => {
                let all = include_deprecated(f);
                list(
                    n.fields
                        .iter()
                        .filter(move |x| all || x.deprecated.is_none())
                        .map(Obj::MetaField),
                )
            }
            None => val(serde_json::Value::Null),
        },
        "interfaces" => match composite {
            Some(n) => list(
                n.interfaces
                    .iter()
                    .filter_map(|i| schema().get(i))
                    .map(|i| Obj::MetaType(MetaType::Named(i))),
            ),
            None => val(serde_json::Value::Null),
        },
        "possibleTypes" => match named.filter(|n| n.kind == TypeKind::Interface) {
            Some(n) => list(
                schema()
                    .implementors(&n.name)
                    .into_iter()
                    .filter_map(|i| schema().get(i))
                    .map(|i| Obj::MetaType(MetaType::Named(i))),
            ),
            None => val(serde_json::Value::Null),
        },
        "enumValues" => match named.filter(|n| n.kind == TypeKind::Enum) {
            Some(n) => list(n.enum_values.iter().map(|v| Obj::MetaEnumValue(v.as_str()))),
            None => val(serde_json::Value::Null),
        },
        "ofType" => maybe(match t {
            MetaType::Named(_) => None,
            MetaType::List(inner) | MetaType::NonNull(inner) => {
                MetaType::of(inner).map(Obj::MetaType)
            }
        }),
        other => Err(not_served("__Type", other)),
    }
}

pub fn field_field<'a>(d: &'static FieldDef, f: &PlanField) -> Result<'a> {
    match f.name.as_str() {
        "name" => val(d.name.clone()),
        "description" => val(serde_json::Value::Null),
        "args" => list(d.args.iter().map(Obj::MetaInput)),
        "type" => maybe(MetaType::of(&d.ty).map(Obj::MetaType)),
        "isDeprecated" => val(d.deprecated.is_some()),
        "deprecationReason" => val(d.deprecated.clone()),
        other => Err(not_served("__Field", other)),
    }
}

pub fn input_field<'a>(a: &'static ArgDef, name: &str) -> Result<'a> {
    match name {
        "name" => val(a.name.clone()),
        "description" | "deprecationReason" => val(serde_json::Value::Null),
        "type" => maybe(MetaType::of(&a.ty).map(Obj::MetaType)),
        "defaultValue" => val(a.default.clone()),
        "isDeprecated" => val(false),
        other => Err(not_served("__InputValue", other)),
    }
}

pub fn enum_value_field<'a>(v: &'static str, name: &str) -> Result<'a> {
    match name {
        "name" => val(v),
        "description" | "deprecationReason" => val(serde_json::Value::Null),
        "isDeprecated" => val(false),
        other => Err(not_served("__EnumValue", other)),
    }
}
