//! The two kinds of thing a bulk job can read — orders (with line items,
//! refunds and returns) and products (with variants) — and how each becomes
//! records.

use crate::api::spec::OrderOptions;
use crate::shopify::jsonl_text::TextRoot;
use crate::shopify::queries::{self, OrderFields};
use crate::store::RecordSet;

use super::records::{ConversionError, Converted};
use super::records_text;

/// What a bulk job reads.
#[derive(Debug, Clone)]
pub enum Source {
    Orders {
        fields: OrderFields,
        options: OrderOptions,
        /// Recordsets fed from orders that are enabled and granted.
        recordsets: Vec<RecordSet>,
    },
    Products,
}

impl Source {
    /// The recordset whose checkpoints drive this source.
    pub fn recordset(&self) -> RecordSet {
        match self {
            Source::Orders { .. } => RecordSet::Orders,
            Source::Products => RecordSet::Products,
        }
    }

    /// Every recordset this source writes, the driving one last (its
    /// checkpoint commits the batch).
    pub fn written_recordsets(&self) -> Vec<RecordSet> {
        match self {
            Source::Orders { recordsets, .. } => {
                let mut out: Vec<RecordSet> = recordsets
                    .iter()
                    .copied()
                    .filter(|r| matches!(r, RecordSet::Refunds | RecordSet::Returns))
                    .collect();
                out.push(RecordSet::Orders);
                out
            }
            Source::Products => vec![RecordSet::Products],
        }
    }

    /// The root field for cheap change scans.
    pub fn root_field(&self) -> &'static str {
        match self {
            Source::Orders { .. } => "orders",
            Source::Products => "products",
        }
    }

    /// The inner document of a bulk job reading what matches `search`.
    pub fn bulk_query(&self, search: &str) -> String {
        match self {
            Source::Orders { fields, .. } => fields.bulk_orders(search),
            Source::Products => queries::bulk_products(search),
        }
    }

    /// Adds the records of one root of a bulk result kept as text to `out`.
    pub fn convert_text(
        &self,
        root: &TextRoot,
        out: &mut Converted,
    ) -> Result<(), ConversionError> {
        match self {
            Source::Orders {
                options,
                recordsets,
                ..
            } => records_text::order(root, options, recordsets, out),
            Source::Products => records_text::product(root, out),
        }
    }
}
