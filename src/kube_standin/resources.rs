//! The kinds the stand-in serves: a few built-ins, plus every custom resource
//! a created CustomResourceDefinition declares. A kind knows its names, scope,
//! subresources, printer columns, schema and which write rules apply to it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::schema::Schema;

/// Where a kind's objects are stored: one per group and plural. The two
/// Event APIs share the core `events` storage, as on a real server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId {
    pub group: String,
    pub plural: String,
}

/// Write rules that differ between kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Plain,
    /// `stringData` is folded into base64 `data`.
    Secret,
    Namespace,
    /// `events.k8s.io/v1` Events: converted to and from the core form they are stored in.
    EventsV1,
    /// Creating one registers a custom resource.
    Crd,
}

/// One `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

impl PrinterColumn {
    pub(super) fn new(name: &str, type_: &str, json_path: &str) -> Self {
        PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: json_path.into(),
        }
    }

    pub(super) fn age() -> Self {
        Self::new("Age", "date", ".metadata.creationTimestamp")
    }
}

#[derive(Debug, Clone)]
pub struct ResourceKind {
    pub group: String,
    /// Served versions, the storage (preferred) version first.
    pub versions: Vec<String>,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// Custom resources get `metadata.generation`, refuse updates without a
    /// resourceVersion and refuse strategic merge patches.
    pub custom: bool,
    pub storage: ResourceId,
    pub behaviour: Behaviour,
    pub columns: Vec<PrinterColumn>,
    pub schema: Schema,
    /// Field selector fields beyond `metadata.name` and `metadata.namespace`;
    /// an entry ending in `.` admits every field under it.
    pub selectable: Vec<String>,
}

impl ResourceKind {
    fn builtin(group: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        ResourceKind {
            group: group.into(),
            versions: vec!["v1".into()],
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            kind: kind.into(),
            short_names: Vec::new(),
            categories: Vec::new(),
            namespaced,
            status_subresource: false,
            custom: false,
            storage: ResourceId {
                group: group.into(),
                plural: plural.into(),
            },
            behaviour: Behaviour::Plain,
            columns: vec![PrinterColumn::age()],
            schema: Schema::none(),
            selectable: Vec::new(),
        }
    }

    pub fn id(&self) -> ResourceId {
        ResourceId {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// The version objects are stored at.
    pub fn storage_version(&self) -> &str {
        self.versions.first().map_or("v1", String::as_str)
    }

    /// `secrets`, `leases.coordination.k8s.io`: how error messages name the resource.
    pub fn qualified_plural(&self) -> String {
        qualify(&self.plural, &self.group)
    }

    /// `ShopifyConnection.shopify.fostr.io`: how validation errors name the kind.
    pub fn qualified_kind(&self) -> String {
        qualify(&self.kind, &self.group)
    }

    /// Custom resources and CRDs count spec changes in `metadata.generation`.
    pub fn tracks_generation(&self) -> bool {
        self.custom || self.behaviour == Behaviour::Crd
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn selectable(&self, field: &str) -> bool {
        field == "metadata.name"
            || (self.namespaced && field == "metadata.namespace")
            || self
                .selectable
                .iter()
                .any(|s| s == field || (s.ends_with('.') && field.starts_with(s.as_str())))
    }
}

fn qualify(name: &str, group: &str) -> String {
    if group.is_empty() {
        name.to_owned()
    } else {
        format!("{name}.{group}")
    }
}

/// Validation and defaulting for one kind, as CEL rules and structural
/// defaults do on a real server: takes the object (and the stored one on
/// update), returns the object to store or the reason it is refused.
pub type AdmissionHook = Arc<dyn Fn(&Value, Option<&Value>) -> Result<Value, String> + Send + Sync>;

#[derive(Default, Clone)]
pub struct Registry {
    kinds: Vec<Arc<ResourceKind>>,
    hooks: HashMap<ResourceId, AdmissionHook>,
}

impl Registry {
    /// The built-in kinds an operator needs: Namespaces, Secrets, ConfigMaps,
    /// Events (both APIs), Leases and CustomResourceDefinitions.
    pub fn builtin() -> Self {
        let mut namespaces = ResourceKind::builtin("", "namespaces", "Namespace", false);
        namespaces.behaviour = Behaviour::Namespace;
        namespaces.short_names = vec!["ns".into()];
        namespaces.selectable = vec!["status.phase".into()];
        namespaces.columns = vec![
            PrinterColumn::new("Status", "string", ".status.phase"),
            PrinterColumn::age(),
        ];

        let mut secrets = ResourceKind::builtin("", "secrets", "Secret", true);
        secrets.behaviour = Behaviour::Secret;
        secrets.selectable = vec!["type".into()];
        secrets.columns = vec![
            PrinterColumn::new("Type", "string", ".type"),
            PrinterColumn::age(),
        ];

        let mut configmaps = ResourceKind::builtin("", "configmaps", "ConfigMap", true);
        configmaps.short_names = vec!["cm".into()];

        let event_fields: Vec<String> = [
            "involvedObject.",
            "regarding.",
            "reason",
            "type",
            "source",
            "reportingComponent",
            "reportingController",
        ]
        .map(String::from)
        .to_vec();
        let mut core_events = ResourceKind::builtin("", "events", "Event", true);
        core_events.short_names = vec!["ev".into()];
        core_events.selectable = event_fields.clone();
        core_events.columns = vec![
            PrinterColumn::new("Type", "string", ".type"),
            PrinterColumn::new("Reason", "string", ".reason"),
            PrinterColumn::new("Object", "string", ".involvedObject.name"),
            PrinterColumn::new("Message", "string", ".message"),
            PrinterColumn::age(),
        ];

        let mut v1_events = ResourceKind::builtin("events.k8s.io", "events", "Event", true);
        v1_events.behaviour = Behaviour::EventsV1;
        v1_events.storage = core_events.id();
        v1_events.short_names = vec!["ev".into()];
        v1_events.selectable = event_fields;
        v1_events.columns = core_events.columns.clone();

        let mut leases = ResourceKind::builtin("coordination.k8s.io", "leases", "Lease", true);
        leases.columns = vec![
            PrinterColumn::new("Holder", "string", ".spec.holderIdentity"),
            PrinterColumn::age(),
        ];

        let mut crds = ResourceKind::builtin(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        );
        crds.behaviour = Behaviour::Crd;
        crds.status_subresource = true;
        crds.short_names = vec!["crd".into(), "crds".into()];
        crds.columns = vec![PrinterColumn::new(
            "Created At",
            "string",
            ".metadata.creationTimestamp",
        )];

        let kinds = [
            namespaces,
            secrets,
            configmaps,
            core_events,
            v1_events,
            leases,
            crds,
        ];
        Registry {
            kinds: kinds.into_iter().map(Arc::new).collect(),
            hooks: HashMap::new(),
        }
    }

    /// The kind served at `/apis/{group}/{version}/{plural}`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceKind>> {
        self.kinds
            .iter()
            .find(|k| {
                k.group == group && k.plural == plural && k.versions.iter().any(|v| v == version)
            })
            .cloned()
    }

    pub fn kinds(&self) -> &[Arc<ResourceKind>] {
        &self.kinds
    }

    /// Adds a kind, replacing one with the same group and plural.
    pub fn register(&mut self, kind: ResourceKind) -> Arc<ResourceKind> {
        let kind = Arc::new(kind);
        self.kinds.retain(|k| k.id() != kind.id());
        self.kinds.push(Arc::clone(&kind));
        kind
    }

    pub fn unregister(&mut self, id: &ResourceId) {
        self.kinds.retain(|k| k.id() != *id);
    }

    pub fn set_hook(&mut self, id: ResourceId, hook: AdmissionHook) {
        self.hooks.insert(id, hook);
    }

    pub fn hook(&self, id: &ResourceId) -> Option<AdmissionHook> {
        self.hooks.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_event_apis_share_storage() {
        let r = Registry::builtin();
        let core = r.find("", "v1", "events").unwrap();
        let v1 = r.find("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(core.storage, v1.storage);
        assert!(core.selectable("involvedObject.name"));
        assert!(
            r.find("shopify.fostr.io", "v1alpha1", "shopifyconnections")
                .is_none()
        );
    }
}
