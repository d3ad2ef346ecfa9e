//! The demo's evidence sources (one table drives the CSV headers and the
//! `[[source]]` entries) and the text of `quarterdeck.toml`.

use std::fmt::Write as _;

use super::DemoOptions;

/// One evidence source: a CSV file `evidence/<name>.csv`.
#[derive(Clone, Copy, Debug)]
pub struct SourceDef {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub timestamp: &'static str,
    pub fresh_within: &'static str,
    pub mode: &'static str,
    pub columns: &'static [&'static str],
}

impl SourceDef {
    pub fn path(&self) -> String {
        format!("evidence/{}.csv", self.name)
    }
}

pub const IDP_AUTH_LOG: SourceDef = SourceDef {
    name: "idp_auth_log",
    key: &["event_id"],
    timestamp: "ts",
    fresh_within: "1d",
    mode: "append",
    columns: &["event_id", "ts", "user_email", "app", "mfa", "outcome", "src_ip", "device"],
};

pub const IAM_AUDIT_LOG: SourceDef = SourceDef {
    name: "iam_audit_log",
    key: &["event_id"],
    timestamp: "ts",
    fresh_within: "3d",
    mode: "append",
    columns: &["event_id", "ts", "actor", "action", "target", "role", "change_ticket"],
};

pub const PROVISIONING: SourceDef = SourceDef {
    name: "provisioning",
    key: &["request_id"],
    timestamp: "requested_at",
    fresh_within: "7d",
    mode: "append",
    columns: &[
        "request_id",
        "requested_at",
        "user_email",
        "system",
        "role",
        "ticket",
        "approver",
        "approved_at",
        "granted_at",
    ],
};

pub const DEPROVISIONING: SourceDef = SourceDef {
    name: "deprovisioning",
    key: &["request_id"],
    timestamp: "terminated_at",
    fresh_within: "14d",
    mode: "append",
    columns: &["request_id", "user_email", "terminated_at", "access_removed_at", "systems", "ticket"],
};

pub const ACCESS_REVIEWS: SourceDef = SourceDef {
    name: "access_reviews",
    key: &["review_id"],
    timestamp: "completed_at",
    fresh_within: "16w",
    mode: "replace",
    columns: &[
        "review_id",
        "system",
        "quarter",
        "reviewer",
        "started_at",
        "completed_at",
        "users_reviewed",
        "access_revoked",
        "ticket",
    ],
};

pub const PULL_REQUESTS: SourceDef = SourceDef {
    name: "pull_requests",
    key: &["pr_id"],
    timestamp: "created_at",
    // Pull requests stop three days before the as-of date (so that they can
    // merge and deploy inside the data); a weekend on top must not read as stale.
    fresh_within: "7d",
    mode: "append",
    columns: &["pr_id", "repo", "author", "title", "created_at", "merged_at", "approver", "approved_at", "ci_passed"],
};

pub const DEPLOYS: SourceDef = SourceDef {
    name: "deploys",
    key: &["deploy_id"],
    timestamp: "deployed_at",
    fresh_within: "4d",
    mode: "append",
    columns: &[
        "deploy_id",
        "deployed_at",
        "environment",
        "service",
        "artifact",
        "pr_id",
        "deployer",
        "approver",
        "rolled_back",
    ],
};

pub const ALERTS: SourceDef = SourceDef {
    name: "alerts",
    key: &["alert_id"],
    timestamp: "fired_at",
    fresh_within: "2d",
    mode: "append",
    columns: &[
        "alert_id",
        "fired_at",
        "severity",
        "rule",
        "service",
        "acknowledged_at",
        "acknowledged_by",
        "incident_id",
    ],
};

pub const INCIDENTS: SourceDef = SourceDef {
    name: "incidents",
    key: &["incident_id"],
    timestamp: "opened_at",
    fresh_within: "8w",
    mode: "append",
    columns: &[
        "incident_id",
        "opened_at",
        "severity",
        "title",
        "customer_impact",
        "resolved_at",
        "postmortem_url",
        "postmortem_completed_at",
        "action_items",
    ],
};

pub const VULN_SCANS: SourceDef = SourceDef {
    name: "vuln_scans",
    key: &["scan_id"],
    timestamp: "scanned_at",
    fresh_within: "2d",
    mode: "append",
    columns: &["scan_id", "scanned_at", "scanner", "target", "critical", "high", "medium", "status"],
};

pub const BACKUPS: SourceDef = SourceDef {
    name: "backups",
    key: &["backup_id"],
    timestamp: "started_at",
    fresh_within: "2d",
    mode: "append",
    columns: &["backup_id", "started_at", "system", "status", "size_gb", "restore_tested_at"],
};

pub const VENDOR_REVIEWS: SourceDef = SourceDef {
    name: "vendor_reviews",
    key: &["vendor_id"],
    timestamp: "reviewed_at",
    fresh_within: "53w",
    mode: "replace",
    columns: &["vendor_id", "vendor", "tier", "reviewed_at", "soc2_report_received", "next_review_due", "reviewer"],
};

/// Every source, in the order they are written and listed.
pub const SOURCES: [SourceDef; 12] = [
    IDP_AUTH_LOG,
    IAM_AUDIT_LOG,
    PROVISIONING,
    DEPROVISIONING,
    ACCESS_REVIEWS,
    PULL_REQUESTS,
    DEPLOYS,
    ALERTS,
    INCIDENTS,
    VULN_SCANS,
    BACKUPS,
    VENDOR_REVIEWS,
];

fn toml_str_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The workspace configuration file.
pub fn quarterdeck_toml(opts: &DemoOptions) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(
        s,
        "# Northwind Cloud is a fictional company. Generated by\n\
         # `quarterdeck demo --scale {} --seed {} --as-of {}`; the same options give the same files.\n",
        opts.scale, opts.seed, opts.as_of
    );
    s.push_str("[workspace]\nname = \"Northwind Cloud (demo)\"\ntimezone = \"UTC\"\n\n");
    s.push_str("[sampling]\nper-event = 25\n");
    for src in SOURCES {
        let _ = write!(
            s,
            "\n[[source]]\nname = \"{}\"\nformat = \"csv\"\npath = \"{}\"\nkey = {}\ntimestamp = \"{}\"\n\
             fresh_within = \"{}\"\nmode = \"{}\"\n",
            src.name,
            src.path(),
            toml_str_list(src.key),
            src.timestamp,
            src.fresh_within,
            src.mode
        );
    }
    s
}
