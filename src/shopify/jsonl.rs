//! Reading a bulk operation's JSONL result. Each line is one object; a node
//! from a nested connection is its own line carrying `__parentId`
//! (shopify-admin-api.md §3.6). shopsync asks for grouped output
//! (`groupObjects: true`), where every child line follows its parent before
//! the next root begins, so a root is complete — and handed out — as soon as
//! the next root line arrives. Memory holds one root at a time whatever the
//! result's size, and in a failed job's partial file every root but the last
//! is complete. Children are still attached by `__parentId`, and a child that
//! names any other parent than the root it follows is an error: the file is
//! not grouped and nothing in it can be trusted to be complete. The reader
//! itself, which keeps every line as text, is `jsonl_text.rs`; here are the
//! errors and the gid helpers it shares.

/// A line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonlError {
    #[error("line {line} of the bulk result is not a JSON object: {detail}")]
    BadLine { line: u64, detail: String },
    #[error("line {line} of the bulk result has no `id`")]
    NoId { line: u64 },
    #[error(
        "line {line} of the bulk result names {parent} as its parent, which is not the root it follows; the result is not grouped"
    )]
    NotGrouped { line: u64, parent: String },
}

/// `gid://shopify/LineItem/7` → `LineItem`.
pub fn gid_type(gid: &str) -> Option<&str> {
    gid.strip_prefix("gid://shopify/")?.split('/').next()
}

/// `gid://shopify/Order/123` → 123 (query parameters ignored).
pub fn gid_number(gid: &str) -> Option<i64> {
    let tail = gid.strip_prefix("gid://shopify/")?.split('/').nth(1)?;
    tail.split('?').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_split_into_type_and_number() {
        assert_eq!(gid_type("gid://shopify/Order/8837991727410"), Some("Order"));
        assert_eq!(
            gid_number("gid://shopify/Order/8837991727410"),
            Some(8837991727410)
        );
        assert_eq!(
            gid_number("gid://shopify/InventoryLevel/5?inventory_item_id=3"),
            Some(5)
        );
        assert_eq!(gid_number("Order/1"), None);
    }
}
