//! The object store: every object by kind, namespace and name; one global
//! resourceVersion counter, as etcd's revision; a bounded history of changes
//! that watches replay from; and a broadcast of new changes to open watches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::managers::ManagedEntry;
use super::resources::ResourceId;

/// An object as stored, with its field managers kept as sets.
#[derive(Debug, Clone)]
pub struct Stored {
    pub value: Value,
    pub managers: Vec<ManagedEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

/// One committed change, as watches see it.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub id: ResourceId,
    pub type_: ChangeType,
    pub object: Value,
    /// The object before the change, so a watch with a selector can tell an
    /// object leaving its selection (sent as DELETED) from one entering it.
    pub previous: Option<Value>,
}

type Key = (String, String);

pub struct Objects {
    rv: u64,
    items: HashMap<ResourceId, BTreeMap<Key, Stored>>,
    history: VecDeque<Arc<Change>>,
    /// Changes at or below this revision are no longer replayable.
    compacted: u64,
    history_limit: usize,
    tx: broadcast::Sender<Arc<Change>>,
}

impl Objects {
    pub fn new(history_limit: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Objects {
            rv: 0,
            items: HashMap::new(),
            history: VecDeque::new(),
            compacted: 0,
            history_limit: history_limit.max(1),
            tx,
        }
    }

    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    pub fn get(&self, id: &ResourceId, namespace: &str, name: &str) -> Option<&Stored> {
        self.items
            .get(id)?
            .get(&(namespace.to_owned(), name.to_owned()))
    }

    /// Objects of a kind in key order, optionally within one namespace.
    pub fn list(&self, id: &ResourceId, namespace: Option<&str>) -> Vec<&Stored> {
        let Some(map) = self.items.get(id) else {
            return Vec::new();
        };
        map.iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|want| ns == want))
            .map(|(_, s)| s)
            .collect()
    }

    /// Stores an object under a new resourceVersion and tells the watches.
    pub fn put(&mut self, id: &ResourceId, mut stored: Stored, type_: ChangeType) -> Value {
        self.rv += 1;
        let key = key_of(&stored.value);
        let meta = &mut stored.value["metadata"];
        meta["resourceVersion"] = json!(self.rv.to_string());
        if stored.managers.is_empty() {
            if let Some(m) = meta.as_object_mut() {
                m.remove("managedFields");
            }
        } else {
            meta["managedFields"] =
                Value::Array(stored.managers.iter().map(ManagedEntry::to_json).collect());
        }
        let value = stored.value.clone();
        let previous = self
            .items
            .entry(id.clone())
            .or_default()
            .insert(key, stored)
            .map(|s| s.value);
        self.record(id, type_, value.clone(), previous);
        value
    }

    /// Removes an object; its DELETED event carries the deletion's revision
    /// and `last`, the object's final state, when the removal comes from an
    /// update (the last finalizer gone), else the stored object.
    pub fn remove(
        &mut self,
        id: &ResourceId,
        namespace: &str,
        name: &str,
        last: Option<Value>,
    ) -> Option<Value> {
        let stored = self
            .items
            .get_mut(id)?
            .remove(&(namespace.to_owned(), name.to_owned()))?;
        self.rv += 1;
        let previous = stored.value.clone();
        let mut value = last.unwrap_or(stored.value);
        value["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record(id, ChangeType::Deleted, value.clone(), Some(previous));
        Some(value)
    }

    /// Every object of a kind, each with its own DELETED event.
    pub fn remove_all(&mut self, id: &ResourceId) {
        let keys: Vec<Key> = self
            .items
            .get(id)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (ns, name) in keys {
            self.remove(id, &ns, &name, None);
        }
    }

    fn record(
        &mut self,
        id: &ResourceId,
        type_: ChangeType,
        object: Value,
        previous: Option<Value>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            id: id.clone(),
            type_,
            object,
            previous,
        });
        self.history.push_back(Arc::clone(&change));
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(change);
    }

    /// New changes from now on; taken under the same lock as a snapshot or
    /// replay so a watch sees no gap and no duplicate.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Changes after `rv`, or `Err(compacted)` when some are no longer kept.
    pub fn changes_after(&self, rv: u64) -> Result<Vec<Arc<Change>>, u64> {
        if rv < self.compacted {
            return Err(self.compacted);
        }
        Ok(self.history.iter().filter(|c| c.rv > rv).cloned().collect())
    }

    /// Forgets all history, as etcd compaction does: older resourceVersions
    /// answer 410 Expired from then on.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
    }
}

fn key_of(value: &Value) -> Key {
    let s = |k: &str| value["metadata"][k].as_str().unwrap_or_default().to_owned();
    (s("namespace"), s("name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ResourceId {
        ResourceId {
            group: "".into(),
            plural: "secrets".into(),
        }
    }

    fn obj(ns: &str, name: &str) -> Stored {
        Stored {
            value: json!({"metadata": {"namespace": ns, "name": name}}),
            managers: Vec::new(),
        }
    }

    #[test]
    fn every_write_takes_the_next_revision() {
        let mut o = Objects::new(10);
        let a = o.put(&id(), obj("ns", "a"), ChangeType::Added);
        let b = o.put(&id(), obj("ns", "b"), ChangeType::Added);
        assert_eq!(a["metadata"]["resourceVersion"], "1");
        assert_eq!(b["metadata"]["resourceVersion"], "2");
        let gone = o.remove(&id(), "ns", "a", None).unwrap();
        assert_eq!(gone["metadata"]["resourceVersion"], "3");
        assert_eq!(o.list(&id(), Some("ns")).len(), 1);
        assert!(o.list(&id(), Some("other")).is_empty());
    }

    #[test]
    fn history_is_bounded_and_old_revisions_expire() {
        let mut o = Objects::new(2);
        for name in ["a", "b", "c"] {
            o.put(&id(), obj("ns", name), ChangeType::Added);
        }
        assert_eq!(o.changes_after(0).unwrap_err(), 1);
        let replay = o.changes_after(1).unwrap();
        assert_eq!(replay.iter().map(|c| c.rv).collect::<Vec<_>>(), vec![2, 3]);
        o.compact();
        assert!(o.changes_after(2).is_err());
        assert!(o.changes_after(3).unwrap().is_empty());
    }
}
