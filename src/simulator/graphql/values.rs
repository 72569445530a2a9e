//! Input values: SDL defaults and type checks of argument values against the
//! served schema (what graphql-ruby reports as `argumentLiteralsIncompatible`).

use graphql_parser::query::Value as AstValue;
use serde_json::Value;

use crate::simulator::schema::{Schema, TypeKind, TypeRef};

pub fn display_value(v: &AstValue<String>) -> String {
    v.to_string()
}

pub fn default_value(sdl: &str) -> Value {
    match sdl {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        s => s
            .parse::<i64>()
            .map(|i| Value::Number(i.into()))
            .unwrap_or_else(|_| Value::String(s.trim_matches('"').to_string())),
    }
}

/// Checks a coerced value against an input type; `Err` carries the expected type name.
pub fn check_value(schema: &Schema, ty: &TypeRef, v: &Value) -> Result<(), String> {
    match (ty, v) {
        (TypeRef::NonNull(_), Value::Null) => Err(ty.to_string()),
        (TypeRef::NonNull(inner), _) => check_value(schema, inner, v).map_err(|_| ty.to_string()),
        (_, Value::Null) => Ok(()),
        (TypeRef::List(inner), Value::Array(items)) => items
            .iter()
            .try_for_each(|i| check_value(schema, inner, i))
            .map_err(|_| ty.to_string()),
        // Input coercion: a single value is accepted where a list is expected.
        (TypeRef::List(inner), _) => check_value(schema, inner, v).map_err(|_| ty.to_string()),
        (TypeRef::Named(name), _) => {
            let ok = match name.as_str() {
                "Int" => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
                "Float" => v.is_number(),
                "Boolean" => v.is_boolean(),
                "ID" => v.is_string() || v.is_i64(),
                "String" | "DateTime" | "URL" | "Decimal" | "Money" => v.is_string(),
                "UnsignedInt64" => v.is_string() || v.is_u64(),
                other => match schema.get(other) {
                    Some(t) if t.kind == TypeKind::Enum => v
                        .as_str()
                        .is_some_and(|s| t.enum_values.iter().any(|e| e == s)),
                    _ => true,
                },
            };
            if ok { Ok(()) } else { Err(name.clone()) }
        }
    }
}

/// A variable's declared type as a schema type reference.
pub fn type_ref(t: &graphql_parser::query::Type<String>) -> TypeRef {
    use graphql_parser::query::Type;
    match t {
        Type::NamedType(n) => TypeRef::Named(n.clone()),
        Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}
