//! `cadre discourse check`: what Cadre would do on this Discourse, found with read-only calls (two to four admin
//! requests plus one per group). It checks that the key authenticates for the admin API (listing badges needs an
//! admin key, or a scoped key with the badges scopes), which of the program's badges exist by name and which would
//! be created, and that every mapped group exists and is not automatic (Discourse refuses members for those). Owns
//! the report; changes nothing.

use hyper::Method;
use serde_json::Value;

use cadre_model::Declaration;

use crate::api::Api;
use crate::outbox::badge_type;

/// One line of the check: fine or not, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// False when something must be fixed before Cadre can write back.
    pub ok: bool,
    /// What was found, or what Cadre will do.
    pub message: String,
}

fn finding(ok: bool, message: impl Into<String>) -> Finding {
    Finding { ok, message: message.into() }
}

/// Run the check for the program's `declaration` and the `[discourse.groups]` map.
pub async fn check(
    api: &Api,
    declaration: &Declaration,
    groups: &std::collections::BTreeMap<String, String>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    match api.call(Method::GET, "/admin/badges.json", &[]).await {
        Err(error) => {
            findings.push(finding(false, error.to_string()));
            return findings;
        }
        Ok(reply) if !reply.ok() => {
            findings.push(finding(
                false,
                format!(
                    "the API key cannot manage badges (HTTP {}: {}); create a key with the scopes badges:create, \
                     badges:assign_badge_to_user, badges:revoke_badge_from_user and groups:manage_groups",
                    reply.status,
                    reply.error_text()
                ),
            ));
        }
        Ok(reply) => {
            findings.push(finding(true, "the API key can manage badges"));
            let existing: Vec<&str> = reply
                .body
                .get("badges")
                .and_then(Value::as_array)
                .map(|all| all.iter().filter_map(|b| b.get("name").and_then(Value::as_str)).collect())
                .unwrap_or_default();
            for badge in &declaration.badges {
                if existing.contains(&badge.name.as_str()) {
                    findings
                        .push(finding(true, format!("badge {:?} exists on Discourse and will be used", badge.name)));
                } else {
                    findings.push(finding(
                        true,
                        format!("badge {:?} will be created (badge type {})", badge.name, badge_type(badge.level)),
                    ));
                }
            }
        }
    }
    for tier in &declaration.tiers {
        let Some(group) = groups.get(&tier.id) else {
            findings.push(finding(false, format!("tier {:?} has no group in [discourse.groups]", tier.id)));
            continue;
        };
        match api.call(Method::GET, &format!("/groups/{}.json", crate::api::encode(group)), &[]).await {
            Ok(reply) if reply.ok() => {
                let automatic = reply.body.pointer("/group/automatic").and_then(Value::as_bool).unwrap_or(false);
                if automatic {
                    findings.push(finding(false, format!("group {group:?} is automatic: Discourse refuses members")));
                } else {
                    findings.push(finding(true, format!("tier {:?} → group {group:?}: members will be added and removed", tier.id)));
                }
            }
            Ok(reply) if reply.status == 404 => findings.push(finding(
                false,
                format!("group {group:?} does not exist: create it in Discourse (Admin → Groups) and gate the private category with it"),
            )),
            Ok(reply) => findings.push(finding(false, format!("group {group:?}: HTTP {} {}", reply.status, reply.error_text()))),
            Err(error) => findings.push(finding(false, error.to_string())),
        }
    }
    for group in groups.keys().filter(|t| !declaration.tiers.iter().any(|tier| &tier.id == *t)) {
        findings.push(finding(
            false,
            format!("[discourse.groups] names tier {group:?}, which the program does not declare"),
        ));
    }
    findings
}
