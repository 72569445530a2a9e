//! What a simulated store is: its host, tokens, scopes, protected-data
//! approval, plan and generated data. Defaults are the issue's: one store
//! `demo.myshopify.com`, token `shpat_simulator_demo`, every read scope,
//! protected data approved, standard plan.

use std::collections::BTreeSet;

use super::data::generate::GenerateOptions;

/// Every read scope a sync could ask for (reference §6); the default grant.
pub const ALL_READ_SCOPES: [&str; 10] = [
    "read_all_orders",
    "read_orders",
    "read_products",
    "read_customers",
    "read_inventory",
    "read_locations",
    "read_returns",
    "read_fulfillments",
    "read_assigned_fulfillment_orders",
    "read_merchant_managed_fulfillment_orders",
];

/// API versions accessible in December 2026 (reference §1.3), oldest first.
pub const DEFAULT_VERSIONS: [&str; 4] = ["2026-01", "2026-04", "2026-07", "2026-10"];

/// Bucket presets (reference §2.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlanPreset {
    Standard,
    Advanced,
    Plus,
    Enterprise,
    Custom { maximum: f64, restore_rate: f64 },
}

impl PlanPreset {
    pub fn parse(s: &str) -> Result<PlanPreset, String> {
        match s {
            "standard" => Ok(PlanPreset::Standard),
            "advanced" => Ok(PlanPreset::Advanced),
            "plus" => Ok(PlanPreset::Plus),
            "enterprise" => Ok(PlanPreset::Enterprise),
            other => {
                let (max, rate) = other.split_once('/').ok_or_else(|| {
                    format!(
                        "unknown plan {other:?}: standard, advanced, plus, enterprise or MAX/RATE"
                    )
                })?;
                Ok(PlanPreset::Custom {
                    maximum: max
                        .parse()
                        .map_err(|_| format!("bad bucket size {max:?}"))?,
                    restore_rate: rate
                        .parse()
                        .map_err(|_| format!("bad restore rate {rate:?}"))?,
                })
            }
        }
    }

    /// `(maximumAvailable, restoreRate)` in points and points per second.
    pub fn bucket(self) -> (f64, f64) {
        match self {
            PlanPreset::Standard => (2000.0, 100.0),
            PlanPreset::Advanced => (4000.0, 200.0),
            PlanPreset::Plus => (20000.0, 1000.0),
            PlanPreset::Enterprise => (40000.0, 2000.0),
            PlanPreset::Custom {
                maximum,
                restore_rate,
            } => (maximum, restore_rate),
        }
    }

    /// `ShopPlan.publicDisplayName` (reference §4.11).
    pub fn display_name(self) -> &'static str {
        match self {
            PlanPreset::Standard | PlanPreset::Custom { .. } => "Basic",
            PlanPreset::Advanced => "Advanced",
            PlanPreset::Plus => "Plus",
            PlanPreset::Enterprise => "Agentic Enterprise",
        }
    }
}

/// Which protected customer data the app is approved for (reference §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtectedAccess {
    pub name: bool,
    pub email: bool,
    pub phone: bool,
    pub address: bool,
}

impl ProtectedAccess {
    pub const ALL: ProtectedAccess = ProtectedAccess {
        name: true,
        email: true,
        phone: true,
        address: true,
    };
    pub const NONE: ProtectedAccess = ProtectedAccess {
        name: false,
        email: false,
        phone: false,
        address: false,
    };

    /// `all`, `none`, or a comma list of `name,email,phone,address`.
    pub fn parse(s: &str) -> Result<ProtectedAccess, String> {
        match s {
            "all" => return Ok(ProtectedAccess::ALL),
            "none" | "" => return Ok(ProtectedAccess::NONE),
            _ => {}
        }
        let mut p = ProtectedAccess::NONE;
        for part in s.split(',') {
            match part.trim() {
                "name" => p.name = true,
                "email" => p.email = true,
                "phone" => p.phone = true,
                "address" => p.address = true,
                other => return Err(format!("unknown protected field {other:?}")),
            }
        }
        Ok(p)
    }

    pub fn allows(self, content: &str) -> bool {
        match content {
            "name" => self.name,
            "email" => self.email,
            "phone" => self.phone,
            "address" => self.address,
            _ => true,
        }
    }
}

/// What an app may do on a store right now: tokens, scopes, protected data.
/// The control API can change these while the simulator runs (token rotation,
/// a scope granted or revoked).
#[derive(Debug, Clone)]
pub struct Grants {
    pub tokens: Vec<String>,
    pub scopes: BTreeSet<String>,
    pub protected: ProtectedAccess,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `<name>.myshopify.com`
    pub domain: String,
    pub tokens: Vec<String>,
    pub scopes: BTreeSet<String>,
    pub protected: ProtectedAccess,
    pub plan: PlanPreset,
    pub data: GenerateOptions,
}

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub stores: Vec<StoreConfig>,
    /// Served versions, oldest first; others fall forward to the first.
    pub versions: Vec<String>,
    /// Simulated seconds per real second.
    pub clock_speed: f64,
    /// The single-query cost cap (reference §2.1).
    pub max_cost: u64,
    /// Base URL written into bulk result URLs; defaults to the listen address.
    pub public_url: Option<String>,
    /// Lifetime of bulk result URLs, simulated seconds (7 days, §3.5).
    pub bulk_url_ttl_s: i64,
}

impl SimulatorConfig {
    /// One store per name with the default grants; `orders` and `products` per store.
    pub fn with_stores(
        names: &[(&str, &str)],
        seed: u64,
        orders: u64,
        products: u64,
        history_end: i64,
    ) -> Self {
        let stores = names
            .iter()
            .enumerate()
            .map(|(i, (name, token))| StoreConfig {
                domain: format!("{name}.myshopify.com"),
                tokens: vec![token.to_string()],
                scopes: ALL_READ_SCOPES.iter().map(|s| s.to_string()).collect(),
                protected: ProtectedAccess::ALL,
                plan: PlanPreset::Standard,
                data: GenerateOptions {
                    seed: seed.wrapping_add(i as u64),
                    shop_name: title_case(name),
                    domain: format!("{name}.myshopify.com"),
                    orders,
                    products,
                    history_days: 730,
                    history_end,
                },
            })
            .collect();
        SimulatorConfig {
            stores,
            versions: DEFAULT_VERSIONS.iter().map(|v| v.to_string()).collect(),
            clock_speed: 1.0,
            max_cost: 1000,
            public_url: None,
            bulk_url_ttl_s: 7 * 86_400,
        }
    }
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}
