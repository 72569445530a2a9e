//! Walks a plan over resolved objects and builds the `data` tree. Field
//! errors (scope, protected data, bad arguments) null the field and add an
//! entry to `errors` while siblings still resolve, as Shopify does (§1.1).
//! The actual query cost is counted here, object by object (§2.3).

use serde_json::Value;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::output::{Out, Seg, segments};

use super::connection::Page;
use super::errors::GqlError;
use super::plan::PlanField;
use crate::simulator::schema::{FieldDef, Schema};

/// What a field resolved to.
pub enum Resolved<O> {
    Value(Value),
    Null,
    Object(O),
    List(Vec<O>),
    /// A list whose entries may be null (`nodes(ids:)`).
    Nullable(Vec<Option<O>>),
    Connection(Page<O>),
}

/// The data side: how objects answer fields.
pub trait Resolver {
    type Obj: Clone;
    fn type_name(&self, obj: &Self::Obj) -> &'static str;
    /// Scope and protected-data checks for one field of an object type.
    fn check_access(&self, owner: &str, def: &FieldDef, field: &PlanField) -> Result<(), GqlError>;
    fn resolve(&self, obj: &Self::Obj, field: &PlanField) -> Result<Resolved<Self::Obj>, GqlError>;
}

/// A field's definition and access verdict on one type, looked up once per request.
type FieldCheck<'r> = (Option<&'r FieldDef>, Option<GqlError>);

/// (type name's address and length, planned field's address).
type CheckKey = (usize, usize, usize);

/// Hashes the addresses of a [`CheckKey`]: they are distinct by construction,
/// so mixing their bits is enough, and this lookup runs for every field of
/// every object a bulk job writes.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_usize(*b as usize);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(23) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub struct Executor<'r, R: Resolver> {
    pub resolver: &'r R,
    /// Keyed by (type, planned field address): a page of 250 orders checks each
    /// field once. A bulk order query plans a few hundred fields.
    checks: HashMap<CheckKey, FieldCheck<'r>, BuildHasherDefault<AddressHasher>>,
    pub schema: &'r Schema,
    pub errors: Vec<GqlError>,
    /// Objects and connections actually returned, per Shopify's formula.
    pub actual_cost: u64,
    /// Bulk mode: leave connection fields out of the line (they become child lines).
    pub skip_connections: bool,
}

impl<'r, R: Resolver> Executor<'r, R> {
    pub fn new(resolver: &'r R, schema: &'r Schema) -> Self {
        Executor {
            resolver,
            checks: HashMap::default(),
            schema,
            errors: vec![],
            actual_cost: 0,
            skip_connections: false,
        }
    }

    /// Is this planned field part of `obj`'s selection (its type condition holds)?
    pub fn applies(&self, obj: &R::Obj, field: &PlanField) -> bool {
        field
            .condition
            .as_deref()
            .is_none_or(|c| self.schema.satisfies(self.resolver.type_name(obj), c))
    }

    pub fn object<'p>(
        &mut self,
        obj: &R::Obj,
        fields: &'p [PlanField],
        path: &mut Vec<Seg<'p>>,
    ) -> Out<'p> {
        let mut out = Vec::with_capacity(fields.len());
        let type_name = self.resolver.type_name(obj);
        for field in fields {
            if !self.applies(obj, field) {
                continue;
            }
            if field.name == "__typename" {
                out.push((Cow::Borrowed(field.key.as_str()), Out::string(type_name)));
                continue;
            }
            if self.skip_connections
                && field
                    .ty
                    .as_ref()
                    .is_some_and(|t| self.schema.is_connection(t.base()))
            {
                continue;
            }
            path.push(Seg::Key(&field.key));
            let value = self.field(obj, type_name, field, path);
            path.pop();
            out.push((Cow::Borrowed(field.key.as_str()), value));
        }
        Out::Object(out)
    }

    fn field<'p>(
        &mut self,
        obj: &R::Obj,
        type_name: &'static str,
        field: &'p PlanField,
        path: &mut Vec<Seg<'p>>,
    ) -> Out<'p> {
        let key = (
            type_name.as_ptr() as usize,
            type_name.len(),
            field as *const PlanField as usize,
        );
        let (schema, resolver) = (self.schema, self.resolver);
        let (def, denied) = self.checks.entry(key).or_insert_with(|| {
            let def = schema.field_def(type_name, &field.name);
            let denied = def.and_then(|d| resolver.check_access(type_name, d, field).err());
            (def, denied)
        });
        if def.is_none() {
            return Out::Null;
        }
        if let Some(e) = denied {
            let e = e.clone();
            self.errors.push(e.at(field.pos).with_path(&segments(path)));
            return Out::Null;
        }
        match self.resolver.resolve(obj, field) {
            Ok(Resolved::Value(v)) => Out::Value(v),
            Ok(Resolved::Null) => Out::Null,
            Ok(Resolved::Object(o)) => {
                self.actual_cost += 1;
                self.object(&o, &field.children, path)
            }
            Ok(Resolved::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, o) in items.iter().enumerate() {
                    self.actual_cost += 1;
                    path.push(Seg::Index(i));
                    out.push(self.object(o, &field.children, path));
                    path.pop();
                }
                Out::List(out)
            }
            Ok(Resolved::Nullable(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, o) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push(match o {
                        Some(o) => {
                            self.actual_cost += 1;
                            self.object(o, &field.children, path)
                        }
                        None => Out::Null,
                    });
                    path.pop();
                }
                Out::List(out)
            }
            Ok(Resolved::Connection(page)) => self.connection(page, field, path),
            Err(e) => {
                self.errors.push(e.at(field.pos).with_path(&segments(path)));
                Out::Null
            }
        }
    }

    fn connection<'p>(
        &mut self,
        page: Page<R::Obj>,
        field: &'p PlanField,
        path: &mut Vec<Seg<'p>>,
    ) -> Out<'p> {
        self.actual_cost += 2 + page.items.len() as u64;
        let mut out = Vec::with_capacity(field.children.len());
        for part in &field.children {
            let value = match part.name.as_str() {
                "__typename" => Out::string(field.ty.as_ref().map_or("", |t| t.base())),
                "nodes" => {
                    path.push(Seg::Key(&part.key));
                    let mut nodes = Vec::with_capacity(page.items.len());
                    for (i, (o, _)) in page.items.iter().enumerate() {
                        path.push(Seg::Index(i));
                        nodes.push(self.object(o, &part.children, path));
                        path.pop();
                    }
                    path.pop();
                    Out::List(nodes)
                }
                "edges" => {
                    path.push(Seg::Key(&part.key));
                    let mut edges = Vec::with_capacity(page.items.len());
                    for (i, (o, cursor)) in page.items.iter().enumerate() {
                        path.push(Seg::Index(i));
                        let mut edge = Vec::with_capacity(part.children.len());
                        for e in &part.children {
                            match e.name.as_str() {
                                "cursor" => {
                                    edge.push((
                                        Cow::Borrowed(e.key.as_str()),
                                        Out::string(cursor.clone()),
                                    ));
                                }
                                "node" => {
                                    path.push(Seg::Key(&e.key));
                                    let v = self.object(o, &e.children, path);
                                    path.pop();
                                    edge.push((Cow::Borrowed(e.key.as_str()), v));
                                }
                                "__typename" => {
                                    let edge_type = field
                                        .ty
                                        .as_ref()
                                        .map_or("", |t| t.base())
                                        .replace("Connection", "Edge");
                                    edge.push((
                                        Cow::Borrowed(e.key.as_str()),
                                        Out::string(edge_type),
                                    ));
                                }
                                _ => {}
                            }
                        }
                        edges.push(Out::Object(edge));
                        path.pop();
                    }
                    path.pop();
                    Out::List(edges)
                }
                "pageInfo" => {
                    let mut info = Vec::with_capacity(part.children.len());
                    for p in &part.children {
                        let v = match p.name.as_str() {
                            "hasNextPage" => Out::Value(Value::Bool(page.has_next)),
                            "hasPreviousPage" => Out::Value(Value::Bool(page.has_previous)),
                            "startCursor" => page
                                .items
                                .first()
                                .map_or(Out::Null, |(_, c)| Out::string(c.clone())),
                            "endCursor" => page
                                .items
                                .last()
                                .map_or(Out::Null, |(_, c)| Out::string(c.clone())),
                            "__typename" => Out::string("PageInfo"),
                            _ => Out::Null,
                        };
                        info.push((Cow::Borrowed(p.key.as_str()), v));
                    }
                    Out::Object(info)
                }
                _ => Out::Null,
            };
            out.push((Cow::Borrowed(part.key.as_str()), value));
        }
        Out::Object(out)
    }
}
