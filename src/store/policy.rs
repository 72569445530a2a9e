//! The read path's access policy: a file mapping roles to the recordsets and
//! environments they may read. Deny by default; deny rules beat allow rules;
//! every refusal names the rule that refused.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::RecordSet;

/// The name refusals use when no rule allows a read.
pub const DEFAULT_DENY: &str = "default-deny";

/// A parsed policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicy {
    pub rules: Vec<PolicyRule>,
    #[serde(skip)]
    source: String,
}

/// One rule. `"*"` in a list matches anything.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    pub name: String,
    #[serde(default)]
    pub effect: Effect,
    pub roles: Vec<String>,
    pub environments: Vec<String>,
    pub recordsets: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the access policy file {path}: {cause}")]
    Unreadable { path: String, cause: String },
    #[error(
        "the access policy file {path} is not valid: {cause}. See docs/store.md for the format"
    )]
    Invalid { path: String, cause: String },
}

/// A read the policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "access policy {source_name} refuses role {role:?} reading {recordset} in environment {environment}: rule {rule:?} {reason}"
)]
pub struct PolicyRefusal {
    pub source_name: String,
    pub role: String,
    pub environment: String,
    pub recordset: String,
    pub rule: String,
    pub reason: String,
}

impl AccessPolicy {
    pub fn load(path: &Path) -> Result<AccessPolicy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Unreadable {
            path: path.display().to_string(),
            cause: e.to_string(),
        })?;
        AccessPolicy::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<AccessPolicy, PolicyError> {
        let invalid = |cause: String| PolicyError::Invalid {
            path: source.to_owned(),
            cause,
        };
        let mut policy: AccessPolicy =
            yaml_serde::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for rule in &policy.rules {
            for name in rule.recordsets.iter().filter(|r| r.as_str() != "*") {
                name.parse::<RecordSet>()
                    .map_err(|e| invalid(format!("rule {:?}: {e}", rule.name)))?;
            }
            if rule.name == DEFAULT_DENY {
                return Err(invalid(format!(
                    "the rule name {DEFAULT_DENY:?} is reserved"
                )));
            }
        }
        policy.source = source.to_owned();
        Ok(policy)
    }

    /// The allow rule that permits `role` to read `recordset` in
    /// `environment`, or the refusal naming the rule that stops it.
    pub fn authorize(
        &self,
        role: &str,
        environment: &str,
        recordset: RecordSet,
    ) -> Result<&str, Box<PolicyRefusal>> {
        let refuse = |rule: &str, reason: String| {
            Box::new(PolicyRefusal {
                source_name: self.source.clone(),
                role: role.to_owned(),
                environment: environment.to_owned(),
                recordset: recordset.to_string(),
                rule: rule.to_owned(),
                reason,
            })
        };
        let applies = |rule: &&PolicyRule| {
            matches(&rule.roles, role)
                && matches(&rule.environments, environment)
                && matches(&rule.recordsets, recordset.as_str())
        };
        if let Some(deny) = self
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Deny)
            .find(applies)
        {
            return Err(refuse(&deny.name, "denies it".to_owned()));
        }
        if let Some(allow) = self
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Allow)
            .find(applies)
        {
            return Ok(&allow.name);
        }
        let for_role: Vec<String> = self
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Allow && matches(&r.roles, role))
            .map(|r| {
                format!(
                    "{} (recordsets {}, environments {})",
                    r.name,
                    r.recordsets.join(","),
                    r.environments.join(",")
                )
            })
            .collect();
        let reason = if for_role.is_empty() {
            "applies: no rule allows this role anything".to_owned()
        } else {
            format!(
                "applies: the rules for this role do not cover it: {}",
                for_role.join("; ")
            )
        };
        Err(refuse(DEFAULT_DENY, reason))
    }
}

fn matches(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

/// A reader's standing: a role under a policy, in one environment.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    policy: AccessPolicy,
    role: String,
    environment: String,
}

impl AccessGrant {
    pub fn new(policy: AccessPolicy, role: &str, environment: &str) -> AccessGrant {
        AccessGrant {
            policy,
            role: role.to_owned(),
            environment: environment.to_owned(),
        }
    }

    pub fn environment(&self) -> &str {
        &self.environment
    }

    pub fn check(&self, recordset: RecordSet) -> Result<(), Box<PolicyRefusal>> {
        self.policy
            .authorize(&self.role, &self.environment, recordset)
            .map(|_| ())
    }

    /// The recordsets this grant may read, in a stable order.
    pub fn readable(&self) -> Vec<RecordSet> {
        RecordSet::ALL
            .into_iter()
            .filter(|r| self.check(*r).is_ok())
            .collect()
    }
}

impl fmt::Display for AccessGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "role {} in environment {}", self.role, self.environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
rules:
  - name: support-reads-orders
    roles: [support]
    environments: [production, staging]
    recordsets: [orders, refunds, returns]
  - name: analysts-everything
    roles: [analyst]
    environments: ["*"]
    recordsets: ["*"]
  - name: no-analysts-in-production-refunds
    effect: deny
    roles: [analyst]
    environments: [production]
    recordsets: [refunds]
"#;

    fn policy() -> AccessPolicy {
        AccessPolicy::parse(POLICY, "policy.yaml").unwrap()
    }

    #[test]
    fn allow_rule_grants_and_is_named() {
        assert_eq!(
            policy().authorize("support", "production", RecordSet::Orders),
            Ok("support-reads-orders")
        );
    }

    #[test]
    fn unknown_role_is_refused_by_default_deny() {
        let err = policy()
            .authorize("intern", "production", RecordSet::Orders)
            .unwrap_err();
        assert_eq!(err.rule, DEFAULT_DENY);
        assert!(err.to_string().contains("default-deny"), "{err}");
    }

    #[test]
    fn uncovered_recordset_names_the_rules_of_the_role() {
        let err = policy()
            .authorize("support", "production", RecordSet::Products)
            .unwrap_err();
        assert_eq!(err.rule, DEFAULT_DENY);
        assert!(err.reason.contains("support-reads-orders"), "{err}");
    }

    #[test]
    fn deny_beats_allow_and_names_itself() {
        let err = policy()
            .authorize("analyst", "production", RecordSet::Refunds)
            .unwrap_err();
        assert_eq!(err.rule, "no-analysts-in-production-refunds");
        assert!(
            policy()
                .authorize("analyst", "staging", RecordSet::Refunds)
                .is_ok()
        );
    }

    #[test]
    fn empty_policy_denies_everything() {
        let empty = AccessPolicy::parse("rules: []", "empty.yaml").unwrap();
        let grant = AccessGrant::new(empty, "admin", "production");
        assert!(grant.readable().is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let err = AccessPolicy::parse("rules:\n  - name: x\n    roles: [a]\n    environments: [p]\n    recordsets: [customers]\n", "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("customers"), "{err}");
        assert!(AccessPolicy::parse("rules:\n  - name: x\n    role: a\n", "p.yaml").is_err());
    }
}
