//! The slice of Shopify's Admin schema the simulator serves, held as data.
//!
//! `served.graphql` is generated from Shopify's own introspection file
//! (reference §10) by `tools/served_schema.py`; the fidelity test compares it
//! with that file again, so the executor, the validator and the cost model
//! all read their types from one place that cannot drift from Shopify.

use std::collections::HashMap;
use std::sync::OnceLock;

use graphql_parser::schema::{Definition, TypeDefinition};

/// The generated SDL, with the simulator's `@access` and `@protected` directives.
pub const SERVED_SDL: &str = include_str!("served.graphql");

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the served SDL does not parse: {0}")]
    Parse(String),
}

/// A GraphQL type reference (`[Order!]!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    /// The named type under any list and non-null wrappers.
    pub fn base(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.base(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// True when the type is a list once the outer non-null is removed.
    pub fn is_list(&self) -> bool {
        match self {
            TypeRef::List(_) => true,
            TypeRef::NonNull(t) => t.is_list(),
            TypeRef::Named(_) => false,
        }
    }

    fn from_ast(t: &graphql_parser::schema::Type<String>) -> TypeRef {
        use graphql_parser::schema::Type;
        match t {
            Type::NamedType(n) => TypeRef::Named(n.clone()),
            Type::ListType(inner) => TypeRef::List(Box::new(TypeRef::from_ast(inner))),
            Type::NonNullType(inner) => TypeRef::NonNull(Box::new(TypeRef::from_ast(inner))),
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => write!(f, "{n}"),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

/// Which scopes grant access, and Shopify's `requiredAccess` text (reference §6).
#[derive(Debug, Clone)]
pub struct Access {
    pub scopes: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    pub name: String,
    pub ty: TypeRef,
    /// The default as written in the SDL (`false`, `PROCESSED_AT`, `10000`).
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub args: Vec<ArgDef>,
    pub ty: TypeRef,
    pub access: Option<Access>,
    /// `name`, `email`, `phone` or `address` for protected customer data (§7).
    pub protected: Option<String>,
    /// Shopify's deprecation reason, when the field is deprecated in the served version.
    pub deprecated: Option<String>,
}

impl FieldDef {
    pub fn arg(&self, name: &str) -> Option<&ArgDef> {
        self.args.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    Scalar,
    Enum,
    Object,
    Interface,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub kind: TypeKind,
    pub fields: Vec<FieldDef>,
    pub interfaces: Vec<String>,
    pub enum_values: Vec<String>,
    pub access: Option<Access>,
}

impl TypeDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Something the served slice has only from a given API version on; the
/// fidelity test checks each gate against Shopify's file for every version.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub type_name: &'static str,
    /// A field, or an enum value when `type_name` is an enum.
    pub member: &'static str,
    /// An argument of that field, when only the argument is new.
    pub arg: Option<&'static str>,
    pub since: &'static str,
}

/// Differences between versions within the served slice (reference §1.3). The
/// fidelity test checks those between 2026-01 and 2026-10 against Shopify's
/// files; `Refund.processedAt` matters only when 2025-10 is served.
pub const VERSION_GATES: &[Gate] = &[
    Gate {
        type_name: "Refund",
        member: "processedAt",
        arg: None,
        since: "2026-01",
    },
    Gate {
        type_name: "InventoryLevel",
        member: "isActive",
        arg: None,
        since: "2026-04",
    },
    Gate {
        type_name: "InventoryItem",
        member: "inventoryLevels",
        arg: Some("includeInactive"),
        since: "2026-04",
    },
    Gate {
        type_name: "OrderDisplayFulfillmentStatus",
        member: "FULFILLMENT_NOT_REQUIRED",
        arg: None,
        since: "2026-10",
    },
];

/// Whether `type_name.member` (and `arg`, if given) exists in `version`.
/// `unstable` and any name that is not a date sort after every release.
pub fn available(type_name: &str, member: &str, arg: Option<&str>, version: &str) -> bool {
    VERSION_GATES
        .iter()
        .filter(|g| {
            g.type_name == type_name && g.member == member && (g.arg.is_none() || g.arg == arg)
        })
        .all(|g| version >= g.since)
}

/// Every served type by name.
#[derive(Debug)]
pub struct Schema {
    pub types: HashMap<String, TypeDef>,
    /// `__schema` and `__type(name:)`, which every query root has implicitly.
    meta: Vec<FieldDef>,
}

const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

impl Schema {
    /// The schema every store serves; parsed once per process.
    pub fn served() -> &'static Schema {
        static SERVED: OnceLock<Schema> = OnceLock::new();
        SERVED.get_or_init(|| match Schema::parse(SERVED_SDL) {
            Ok(schema) => schema,
            // The SDL is compiled in and covered by tests, so this is a build defect.
            Err(err) => panic!("{err}"),
        })
    }

    pub fn parse(sdl: &str) -> Result<Schema, SchemaError> {
        let doc = graphql_parser::parse_schema::<String>(sdl)
            .map_err(|e| SchemaError::Parse(e.to_string()))?;
        let mut types = HashMap::new();
        for name in BUILTIN_SCALARS {
            types.insert(name.to_string(), leaf(name, TypeKind::Scalar, vec![]));
        }
        for def in doc.definitions {
            let Definition::TypeDefinition(def) = def else {
                continue;
            };
            let parsed = match def {
                TypeDefinition::Scalar(s) => leaf(&s.name, TypeKind::Scalar, vec![]),
                TypeDefinition::Enum(e) => leaf(
                    &e.name,
                    TypeKind::Enum,
                    e.values.into_iter().map(|v| v.name).collect(),
                ),
                TypeDefinition::Object(o) => TypeDef {
                    access: access_of(&o.directives),
                    name: o.name,
                    kind: TypeKind::Object,
                    fields: o.fields.iter().map(field_of).collect(),
                    interfaces: o.implements_interfaces,
                    enum_values: vec![],
                },
                TypeDefinition::Interface(i) => TypeDef {
                    access: access_of(&i.directives),
                    name: i.name,
                    kind: TypeKind::Interface,
                    fields: i.fields.iter().map(field_of).collect(),
                    interfaces: i.implements_interfaces,
                    enum_values: vec![],
                },
                TypeDefinition::Union(u) => {
                    return Err(SchemaError::Parse(format!("unexpected union {}", u.name)));
                }
                TypeDefinition::InputObject(i) => {
                    return Err(SchemaError::Parse(format!("unexpected input {}", i.name)));
                }
            };
            types.insert(parsed.name.clone(), parsed);
        }
        let meta_field = |name: &str, ty: TypeRef, args: Vec<ArgDef>| FieldDef {
            name: name.to_string(),
            args,
            ty,
            access: None,
            protected: None,
            deprecated: None,
        };
        let named = |n: &str| TypeRef::Named(n.to_string());
        let meta = vec![
            meta_field(
                "__schema",
                TypeRef::NonNull(Box::new(named("__Schema"))),
                vec![],
            ),
            meta_field(
                "__type",
                named("__Type"),
                vec![ArgDef {
                    name: "name".into(),
                    ty: TypeRef::NonNull(Box::new(named("String"))),
                    default: None,
                }],
            ),
        ];
        Ok(Schema { types, meta })
    }

    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// A field of a type, including the introspection fields of the query root.
    pub fn field_def(&self, type_name: &str, field: &str) -> Option<&FieldDef> {
        match self.get(type_name).and_then(|t| t.field(field)) {
            Some(f) => Some(f),
            None if type_name == "QueryRoot" => self.meta.iter().find(|f| f.name == field),
            None => None,
        }
    }

    /// True when a value of `concrete` satisfies the type condition `condition`.
    pub fn satisfies(&self, concrete: &str, condition: &str) -> bool {
        concrete == condition
            || self
                .get(concrete)
                .is_some_and(|t| t.interfaces.iter().any(|i| i == condition))
    }

    /// Object types that implement `interface`, sorted for stable output.
    pub fn implementors(&self, interface: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .types
            .values()
            .filter(|t| t.interfaces.iter().any(|i| i == interface))
            .map(|t| t.name.as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// A connection type is an object named `…Connection` with `edges` and `pageInfo`.
    pub fn is_connection(&self, type_name: &str) -> bool {
        type_name.ends_with("Connection")
            && self
                .get(type_name)
                .is_some_and(|t| t.field("edges").is_some() && t.field("pageInfo").is_some())
    }
}

fn leaf(name: &str, kind: TypeKind, enum_values: Vec<String>) -> TypeDef {
    TypeDef {
        name: name.to_string(),
        kind,
        fields: vec![],
        interfaces: vec![],
        enum_values,
        access: None,
    }
}

fn field_of(f: &graphql_parser::schema::Field<String>) -> FieldDef {
    FieldDef {
        name: f.name.clone(),
        args: f
            .arguments
            .iter()
            .map(|a| ArgDef {
                name: a.name.clone(),
                ty: TypeRef::from_ast(&a.value_type),
                default: a.default_value.as_ref().map(|v| v.to_string()),
            })
            .collect(),
        ty: TypeRef::from_ast(&f.field_type),
        access: access_of(&f.directives),
        protected: f
            .directives
            .iter()
            .find(|d| d.name == "protected")
            .and_then(|d| string_arg(&d.arguments, "content")),
        deprecated: f
            .directives
            .iter()
            .find(|d| d.name == "deprecated")
            .and_then(|d| string_arg(&d.arguments, "reason")),
    }
}

fn access_of(directives: &[graphql_parser::schema::Directive<String>]) -> Option<Access> {
    use graphql_parser::schema::Value;
    let d = directives.iter().find(|d| d.name == "access")?;
    let scopes = d
        .arguments
        .iter()
        .find(|(n, _)| n == "scopes")
        .map(|(_, v)| v)?;
    let Value::List(items) = scopes else {
        return None;
    };
    Some(Access {
        scopes: items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        text: string_arg(&d.arguments, "text").unwrap_or_default(),
    })
}

fn string_arg(
    args: &[(String, graphql_parser::schema::Value<String>)],
    name: &str,
) -> Option<String> {
    args.iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| match v {
            graphql_parser::schema::Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_schema_parses_with_scopes_and_protection() {
        let schema = Schema::served();
        let order = schema.get("Order").expect("Order served");
        let access = order.access.as_ref().expect("Order needs a scope");
        assert!(access.scopes.contains(&"read_orders".to_string()));
        let email = order.field("email").expect("Order.email");
        assert_eq!(email.protected.as_deref(), Some("email"));
        let orders = schema
            .get("QueryRoot")
            .and_then(|q| q.field("orders"))
            .expect("orders");
        assert_eq!(orders.ty.to_string(), "OrderConnection!");
        assert_eq!(
            orders.arg("sortKey").and_then(|a| a.default.as_deref()),
            Some("PROCESSED_AT")
        );
        assert!(schema.is_connection("OrderConnection"));
        assert!(schema.satisfies("Order", "Node"));
        assert!(schema.implementors("Node").contains(&"BulkOperation"));
    }
}
