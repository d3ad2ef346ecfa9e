//! `systems.toml`: Northwind Cloud's system inventory, the observe rules
//! saying where its systems show up in the evidence, and the last inventory
//! review. It lists every system the sources name at any scale, except the
//! planted ones: [`NEW_SERVICE`] is missing, [`RETIRED_APP`] is retired in
//! the quarter before the last full one (see `docs/inventory.md`).

use std::fmt::Write as _;

use super::clock::{Clock, DAY, fmt_date};
use super::plan::{NEW_SERVICE, Plan, RETIRED_APP};
use super::sources::{APPS, BACKUP_SYSTEMS, PROVISIONED, REPOS, REVIEWED, scaled_name};

/// One inventory entry.
struct Entry {
    id: String,
    kind: &'static str,
    owner: &'static str,
    environment: &'static str,
    in_scope: bool,
    description: String,
}

/// The IdP app name of the production AWS account, mapped to its system id.
const AWS_CONSOLE: (&str, &str) = ("aws-console", "aws-prod");

/// Apps and systems outside the SOC 2 scope: no customer data, no
/// production access.
const OUT_OF_SCOPE: [&str; 5] = ["aws-staging", "jira", "slack", "notion", RETIRED_APP];

fn entries(scale: u32) -> Vec<Entry> {
    let scale = scale as usize;
    let mut out: Vec<Entry> = Vec::new();
    let mut push = |e: Entry| {
        if !out.iter().any(|o| o.id == e.id) {
            out.push(e);
        }
    };
    for (_, repo, service, _) in REPOS {
        push(Entry {
            id: service.to_string(),
            kind: "service",
            owner: "platform@northwind.example",
            environment: "production",
            in_scope: true,
            description: format!("built from {repo}"),
        });
    }
    let stores: Vec<&str> = BACKUP_SYSTEMS.iter().map(|s| s.0).collect();
    for i in 0..stores.len() * scale {
        push(Entry {
            id: scaled_name(&stores, i, "-"),
            kind: "datastore",
            owner: "sre@northwind.example",
            environment: "production",
            in_scope: true,
            description: "customer data, backed up nightly".to_string(),
        });
    }
    for i in 0..REVIEWED.len() * scale {
        let id = scaled_name(&REVIEWED, i, "-");
        let cloud = REVIEWED[i % REVIEWED.len()] == AWS_CONSOLE.1;
        push(Entry {
            id,
            kind: if cloud { "cloud-account" } else { "saas" },
            owner: if cloud { "sre@northwind.example" } else { "it@northwind.example" },
            environment: "production",
            in_scope: true,
            description: if cloud { "the production AWS account" } else { "SaaS with production or customer data" }
                .to_string(),
        });
    }
    let others = PROVISIONED.iter().map(|s| s.0).chain(APPS).filter(|a| *a != AWS_CONSOLE.0);
    for id in others {
        let staging = id.ends_with("-staging");
        push(Entry {
            id: id.to_string(),
            kind: if staging { "cloud-account" } else { "saas" },
            owner: if staging { "sre@northwind.example" } else { "it@northwind.example" },
            environment: if staging { "staging" } else { "corporate" },
            in_scope: !OUT_OF_SCOPE.contains(&id),
            description: if id == RETIRED_APP { "video calls, replaced by Google Meet" } else { "corporate tool" }
                .to_string(),
        });
    }
    out
}

/// The text of `systems.toml` and its number of `[[system]]` entries.
pub fn systems_toml(scale: u32, clock: &Clock, plan: &Plan) -> (String, u64) {
    let added = fmt_date(clock.start - 400 * DAY);
    let reviewed = fmt_date(clock.lfq.0 + 9 * DAY);
    let mut s = String::from(
        "# Northwind Cloud's system inventory (docs/inventory.md). Reviewed every\n\
         # quarter by security; `quarterdeck systems` compares it with the evidence.\n\n",
    );
    let _ = write!(s, "[inventory]\nreviewed_at = {reviewed}\nreviewer = \"security@northwind.example\"\n\n");
    let rules: [(&str, &str, Option<&str>); 4] = [
        ("deploys", "service", Some("environment = 'production'")),
        ("backups", "system", None),
        ("access_reviews", "system", None),
        ("provisioning", "system", None),
    ];
    for (source, column, filter) in rules {
        let _ = write!(s, "[[observe]]\nsource = \"{source}\"\ncolumn = \"{column}\"\n");
        if let Some(f) = filter {
            let _ = writeln!(s, "where = \"{f}\"");
        }
        s.push('\n');
    }
    let _ = write!(
        s,
        "[[observe]]\nsource = \"idp_auth_log\"\ncolumn = \"app\"\nwhere = \"outcome = 'success'\"\n\
         map = {{ \"{}\" = \"{}\" }}\n\n",
        AWS_CONSOLE.0, AWS_CONSOLE.1
    );
    let entries = entries(scale);
    debug_assert!(!entries.iter().any(|e| e.id == NEW_SERVICE));
    for e in &entries {
        let _ = write!(
            s,
            "[[system]]\nid = \"{}\"\nkind = \"{}\"\nowner = \"{}\"\nenvironment = \"{}\"\nin_scope = {}\n\
             description = \"{}\"\nadded = {added}\n",
            e.id, e.kind, e.owner, e.environment, e.in_scope, e.description
        );
        if e.id == RETIRED_APP {
            let _ = writeln!(s, "retired = {}", fmt_date(plan.app_retired));
        }
        s.push('\n');
    }
    (s, entries.len() as u64)
}
