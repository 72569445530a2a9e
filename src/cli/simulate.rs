//! `shopsync simulate`: serves the local Shopify Admin API until interrupted.
//! The first line printed is the base URL it listens on, so scripts can wait
//! for it; the next lines list the stores and their tokens.

use std::io::Write;

use clap::Args;

use crate::simulator::config::{
    ALL_READ_SCOPES, DEFAULT_VERSIONS, PlanPreset, ProtectedAccess, SimulatorConfig,
};

#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: String,
    /// Seed of the data generator: the same seed and history end give the same stores, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Extra stores store-1.myshopify.com … store-N.myshopify.com (tokens shpat_simulator_1 …), besides demo.myshopify.com.
    #[arg(long, default_value_t = 0)]
    pub stores: u32,
    /// Orders generated per store.
    #[arg(long, default_value_t = 3_000)]
    pub orders: u64,
    /// Products generated per store (1–5 variants each).
    #[arg(long, default_value_t = 200)]
    pub products: u64,
    /// Days of order history to generate.
    #[arg(long, default_value_t = 730)]
    pub history_days: u64,
    /// End of the generated history, RFC 3339 (default: the start of today, UTC).
    #[arg(long)]
    pub history_end: Option<String>,
    /// Plan of every store: standard (2000/100), advanced (4000/200), plus (20000/1000), enterprise (40000/2000) or BUCKET/RATE.
    #[arg(long, default_value = "standard")]
    pub plan: String,
    /// Plan of one store, as STORE=PLAN (repeatable); overrides --plan for that store.
    #[arg(long = "store-plan", value_name = "STORE=PLAN")]
    pub store_plans: Vec<String>,
    /// API versions served, comma-separated; other versions fall forward to the oldest.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_VERSIONS.map(String::from))]
    pub api_versions: Vec<String>,
    /// Extra access token, as STORE=TOKEN (repeatable); STORE is the host, e.g. demo.myshopify.com.
    #[arg(long = "token", value_name = "STORE=TOKEN")]
    pub tokens: Vec<String>,
    /// Granted scopes of every store, comma-separated (default: every read scope, read_all_orders included).
    #[arg(long, value_delimiter = ',', default_values_t = ALL_READ_SCOPES.map(String::from))]
    pub scopes: Vec<String>,
    /// Protected customer data the app is approved for: all, none, or a list of name,email,phone,address.
    #[arg(long, default_value = "all")]
    pub protected_data: String,
    /// Simulated seconds per real second (bucket refill, bulk jobs, URL expiry).
    #[arg(long, default_value_t = 1.0)]
    pub clock_speed: f64,
    /// Single-query cost cap; requests above it get MAX_COST_EXCEEDED.
    #[arg(long, default_value_t = 1000)]
    pub max_cost: u64,
    /// Base URL written into bulk result URLs (default: http://LISTEN-ADDRESS).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Lifetime of bulk result URLs in simulated seconds (Shopify: 7 days).
    #[arg(long, default_value_t = 7 * 86_400)]
    pub bulk_url_ttl: i64,
}

impl SimulateArgs {
    pub fn config(&self) -> anyhow::Result<SimulatorConfig> {
        let history_end = match &self.history_end {
            Some(s) => s.parse::<jiff::Timestamp>()?.as_second(),
            None => {
                let now = jiff::Timestamp::now().as_second();
                now - now.rem_euclid(86_400)
            }
        };
        let mut names: Vec<(String, String)> = vec![("demo".into(), "shpat_simulator_demo".into())];
        for i in 1..=self.stores {
            names.push((format!("store-{i}"), format!("shpat_simulator_{i}")));
        }
        let refs: Vec<(&str, &str)> = names
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let mut config =
            SimulatorConfig::with_stores(&refs, self.seed, self.orders, self.products, history_end);
        let plan = PlanPreset::parse(&self.plan).map_err(anyhow::Error::msg)?;
        let protected = ProtectedAccess::parse(&self.protected_data).map_err(anyhow::Error::msg)?;
        for store in &mut config.stores {
            store.plan = plan;
            store.protected = protected;
            store.scopes = self
                .scopes
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            store.data.history_days = self.history_days;
        }
        for sp in &self.store_plans {
            let (host, plan) = sp
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--store-plan wants STORE=PLAN, got {sp:?}"))?;
            let store = config
                .stores
                .iter_mut()
                .find(|s| s.domain == host)
                .ok_or_else(|| anyhow::anyhow!("--store-plan names unknown store {host:?}"))?;
            store.plan = PlanPreset::parse(plan).map_err(anyhow::Error::msg)?;
        }
        for t in &self.tokens {
            let (host, token) = t
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--token wants STORE=TOKEN, got {t:?}"))?;
            let store = config
                .stores
                .iter_mut()
                .find(|s| s.domain == host)
                .ok_or_else(|| anyhow::anyhow!("--token names unknown store {host:?}"))?;
            store.tokens.push(token.to_string());
        }
        config.versions = self.api_versions.clone();
        config.versions.sort();
        config.clock_speed = self.clock_speed;
        config.max_cost = self.max_cost;
        config.public_url = self.public_url.clone();
        config.bulk_url_ttl_s = self.bulk_url_ttl;
        Ok(config)
    }
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listen = args.listen.clone();
        let running = crate::simulator::start(config, &listen).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", running.url())?;
        let mut stores: Vec<_> = running.sim.stores.values().collect();
        stores.sort_by(|a, b| a.config.domain.cmp(&b.config.domain));
        for s in stores {
            writeln!(
                out,
                "store {} token {} orders {}",
                s.config.domain,
                s.config.tokens.join(","),
                s.read_data().orders.len()
            )?;
        }
        out.flush()?;
        drop(out);
        tokio::select! {
            _ = running.wait() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};
    use crate::simulator::config::PlanPreset;

    fn config(args: &[&str]) -> crate::simulator::config::SimulatorConfig {
        let mut argv = vec!["shopsync", "simulate"];
        argv.extend_from_slice(args);
        match Cli::parse_from(argv).command {
            Command::Simulate(a) => a.config().expect("valid options"),
            _ => panic!("not simulate"),
        }
    }

    #[test]
    fn defaults_are_the_issues_and_options_apply() {
        let c = config(&[]);
        assert_eq!(c.stores.len(), 1);
        assert_eq!(c.stores[0].domain, "demo.myshopify.com");
        assert_eq!(c.stores[0].tokens, vec!["shpat_simulator_demo"]);
        assert!(c.stores[0].scopes.contains("read_all_orders"));
        assert_eq!(c.stores[0].plan, PlanPreset::Standard);
        let c = config(&[
            "--stores",
            "2",
            "--plan",
            "advanced",
            "--store-plan",
            "store-2.myshopify.com=plus",
            "--token",
            "demo.myshopify.com=shpat_extra",
            "--scopes",
            "read_orders,read_products",
            "--api-versions",
            "2026-10,2026-04",
        ]);
        let domains: Vec<&str> = c.stores.iter().map(|s| s.domain.as_str()).collect();
        assert_eq!(
            domains,
            [
                "demo.myshopify.com",
                "store-1.myshopify.com",
                "store-2.myshopify.com"
            ]
        );
        assert_eq!(c.stores[1].tokens, vec!["shpat_simulator_1"]);
        assert_eq!(c.stores[1].plan, PlanPreset::Advanced);
        assert_eq!(c.stores[2].plan, PlanPreset::Plus);
        assert_eq!(
            c.stores[0].tokens,
            vec!["shpat_simulator_demo", "shpat_extra"]
        );
        assert_eq!(c.stores[0].scopes.len(), 2);
        assert_eq!(c.versions, vec!["2026-04", "2026-10"]);
    }
}
