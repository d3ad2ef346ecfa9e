//! The demo's control mappings, `controls/*.toml`: 26 controls over the
//! twelve sources and the document register, covering all 33 common
//! criteria (CC1.1–CC9.2), A1.2 and A1.3. Each planted gap fails at least
//! one test here; nothing else does.

/// (file name under `controls/`, contents)
pub const FILES: [(&str, &str); 6] = [
    ("access.toml", ACCESS),
    ("change.toml", CHANGE),
    ("governance.toml", GOVERNANCE),
    ("operations.toml", OPERATIONS),
    ("resilience.toml", RESILIENCE),
    ("vendors.toml", VENDORS),
];

const GOVERNANCE: &str = r#"# Governance, risk and monitoring, tested on the document register
# (documents.toml): board oversight, policies, the risk assessment, the
# pentest and vendors' SOC 2 reports. A document is in a period while it is
# in force (from `effective` until its next version); minutes are events,
# in the period of their meeting (`period = "effective"`).

[[control]]
id = "GOV-1"
title = "The board meets each quarter and is briefed on security"
criteria = ["CC1.2", "CC2.2", "CC4.2"]
owner = "ceo@northwind.example"
frequency = "quarterly"
practice = "The CTO reports open findings, incidents and access reviews to the board each quarter; the chair approves the minutes."

[[control.evidence]]
name = "board minutes"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "kind = 'minutes'"
period = "effective"
tests = { approved = "approved_by IS NOT NULL AND approved_at <= effective + INTERVAL 30 DAY" }

[[control]]
id = "GOV-2"
title = "Entity-level policies are approved and reviewed every year"
criteria = ["CC1.1", "CC1.3", "CC1.4", "CC1.5", "CC2.1", "CC2.3", "CC5.1", "CC5.2", "CC5.3"]
owner = "security@northwind.example"
frequency = "annual"
practice = "Each policy has an owner who reviews it yearly; the CTO approves every version before it takes effect."

[[control.evidence]]
name = "policies in force"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "kind = 'policy' AND list_contains(controls, 'GOV-2')"
tests = { approved = "approved_by IS NOT NULL", reviewed_in_time = "effective >= period_start - INTERVAL 1 YEAR" }

[[control]]
id = "GOV-3"
title = "Security policies for physical access, disposal, network, encryption and endpoints are in force"
criteria = ["CC6.4", "CC6.5", "CC6.6", "CC6.7", "CC6.8"]
owner = "security@northwind.example"
frequency = "annual"
practice = "The security policies are reviewed yearly with the teams that operate them; the CTO approves each version."

[[control.evidence]]
name = "security policies in force"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "kind = 'policy' AND list_contains(controls, 'GOV-3')"
tests = { approved = "approved_by IS NOT NULL", reviewed_in_time = "effective >= period_start - INTERVAL 1 YEAR" }

[[control]]
id = "RSK-1"
title = "Risks, fraud and significant change are assessed every year; continuity is planned"
criteria = ["CC3.1", "CC3.2", "CC3.3", "CC3.4", "CC9.1"]
owner = "security@northwind.example"
frequency = "annual"
practice = "The security team runs the risk assessment with engineering and finance each year and keeps the continuity plan current."

[[control.evidence]]
name = "risk assessment and continuity plan"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "list_contains(controls, 'RSK-1')"
tests = { approved = "approved_by IS NOT NULL", within_a_year = "effective >= period_start - INTERVAL 1 YEAR" }

[[control]]
id = "MON-1"
title = "An independent penetration test runs every year and its findings are retested"
criteria = ["CC4.1", "CC4.2", "CC7.1"]
owner = "security@northwind.example"
frequency = "annual"
practice = "An outside firm tests the external surface yearly; high findings are fixed and retested by the same firm."

[[control.evidence]]
name = "pentest reports"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "kind = 'pentest'"

[control.evidence.tests]
recent = "covers_to >= period_end - INTERVAL 1 YEAR"
retested = "subject IS NOT NULL OR EXISTS (SELECT 1 FROM documents r WHERE r.kind = 'pentest' AND r.subject = population.id)"

[[control]]
id = "VEN-3"
title = "Critical vendors' SOC 2 reports attest to a window ending within the last year"
criteria = ["CC9.2"]
owner = "security@northwind.example"
frequency = "annual"
practice = "Security collects each critical vendor's SOC 2 Type 2 report (and bridge letter) and reviews its exceptions."

[[control.evidence]]
name = "vendor SOC 2 reports"
source = "documents"
# Every document in the period is tested: the population is small.
sample = 25
where = "kind = 'vendor-report'"
tests = { current = "covers_to >= period_end - INTERVAL 1 YEAR" }
"#;

const ACCESS: &str = r#"# Access control: SSO with MFA, approved provisioning, timely deprovisioning,
# quarterly access reviews, ticketed IAM changes, complete sign-in logs.

[[control]]
id = "AC-1"
title = "Sign-ins to company applications use SSO with MFA"
criteria = ["CC6.1"]
owner = "it@northwind.example"
frequency = "per-event"
practice = "Every application signs in through the IdP, whose policy requires a second factor for every session."

[[control.evidence]]
name = "successful sign-ins"
source = "idp_auth_log"
where = "outcome = 'success'"
tests = { mfa_used = "mfa" }

[[control]]
id = "AC-2"
title = "Access is granted only on an approved, ticketed request"
criteria = ["CC6.2", "CC6.3"]
owner = "it@northwind.example"
frequency = "per-event"
practice = "Access requests are IT tickets; the requester's manager approves before IT grants the role."

[[control.evidence]]
name = "access grants"
source = "provisioning"
period = "requested_at"

[control.evidence.tests]
approved_before_grant = "approver IS NOT NULL AND approved_at <= granted_at"
independent = "approver <> user_email"
ticketed = "ticket IS NOT NULL"

[[control]]
id = "AC-3"
title = "Leavers lose access within one day of termination"
criteria = ["CC6.2"]
owner = "it@northwind.example"
frequency = "per-event"
practice = "The HR termination opens an offboarding ticket; IT disables the IdP account and removes every grant the same day."

[[control.evidence]]
name = "terminations"
source = "deprovisioning"
period = "terminated_at"

[control.evidence.tests]
timely = "access_removed_at <= terminated_at + INTERVAL 1 DAY"
ticketed = "ticket IS NOT NULL"

[[control]]
id = "AC-4"
title = "User access to in-scope systems is reviewed every quarter"
criteria = ["CC6.3", "CC6.2"]
owner = "security@northwind.example"
frequency = "quarterly"
practice = "In the last month of each quarter every system owner reviews its users in a ticket and revokes what is not needed."

[[control.evidence]]
name = "access reviews"
source = "access_reviews"
period = "completed_at"
# One review a quarter for every in-scope SaaS app and cloud account in
# systems.toml, landing at most five days late.
applies_to = { kind = ["saas", "cloud-account"] }
system = "system"
expect = "quarterly"
per = ["system"]
grace = "5d"

[control.evidence.tests]
completed = "completed_at IS NOT NULL"
timely = "completed_at <= started_at + INTERVAL 14 DAY"
evidenced = "ticket IS NOT NULL AND users_reviewed > 0"
right_quarter = "quarter = strftime(completed_at, '%Y') || '-Q' || CAST(quarter(completed_at) AS VARCHAR)"

[[control]]
id = "AC-5"
title = "Privileged IAM changes are ticketed and made by someone else"
criteria = ["CC6.3", "CC6.1"]
owner = "sre@northwind.example"
frequency = "per-event"
practice = "IAM roles and group memberships change only by an admin working a change ticket; access-key rotation is self-service."

[[control.evidence]]
name = "privileged IAM changes"
source = "iam_audit_log"
where = "action NOT IN ('CreateAccessKey', 'DeleteAccessKey', 'UpdateAccessKey')"

[control.evidence.tests]
ticketed = "change_ticket IS NOT NULL"
not_self = "actor <> target"

[[control]]
id = "AC-6"
title = "Identity-provider sign-in logs are collected every day"
criteria = ["CC7.2", "CC6.1"]
owner = "security@northwind.example"
frequency = "daily"
practice = "The IdP log export runs hourly into the evidence store; a day without events means collection broke."

[[control.evidence]]
name = "sign-in events per day"
population = '''
SELECT c.day, coalesce(n.events, 0) AS events
FROM (SELECT unnest(generate_series(date_trunc('day', min(ts)), date_trunc('day', max(ts)), INTERVAL 1 DAY)) AS day
      FROM idp_auth_log) AS c
LEFT JOIN (SELECT date_trunc('day', ts) AS day, count(*) AS events FROM idp_auth_log GROUP BY ALL) AS n USING (day)
'''
period = "day"
key = ["day"]
tests = { collected = "events > 0" }
"#;

const CHANGE: &str = r#"# Change management: reviewed pull requests, approved production deploys,
# and deploys that ship only reviewed, tested, merged code.

[[control]]
id = "CHG-1"
title = "Production changes are peer-reviewed before deploy"
criteria = ["CC8.1"]
owner = "platform@northwind.example"
frequency = "per-event"
practice = "Branch protection requires one approving review; the pipeline deploys merged commits only, behind an approval gate."

[[control.evidence]]
name = "prod deploys"
source = "deploys"
where = "environment = 'production'"
period = "deployed_at"
key = ["deploy_id"]
sample = 25
applies_to = { kind = ["service"] }
system = "service"
tests = { approved = "approver IS NOT NULL", independent = "approver <> deployer" }

[[control]]
id = "CHG-2"
title = "Pull requests are approved by someone other than the author and pass CI before merge"
criteria = ["CC8.1"]
owner = "platform@northwind.example"
frequency = "per-event"
practice = "GitHub branch protection: one approving review from another engineer and green required checks."

[[control.evidence]]
name = "merged pull requests"
source = "pull_requests"
where = "merged_at IS NOT NULL"
period = "merged_at"

[control.evidence.tests]
approved = "approver IS NOT NULL AND approved_at <= merged_at"
independent = "approver <> author"
ci_passed = "ci_passed"

[[control]]
id = "CHG-3"
title = "Deployed code was reviewed, tested and merged before it reached production"
criteria = ["CC8.1"]
owner = "platform@northwind.example"
frequency = "per-event"
practice = "Each deploy names the pull request it ships; the pipeline refuses artifacts not built from a merged, approved PR."

[[control.evidence]]
name = "prod deploys with their pull request"
population = '''
SELECT d.deploy_id, d.deployed_at, d.service, d.deployer, pr_id,
       p.author AS pr_author, p.approver AS pr_approver, p.approved_at AS pr_approved_at,
       p.merged_at AS pr_merged_at, p.ci_passed
FROM deploys d JOIN pull_requests p USING (pr_id)
WHERE d.environment = 'production'
'''
period = "deployed_at"
key = ["deploy_id"]

[control.evidence.tests]
reviewed_first = "pr_approved_at <= deployed_at"
merged_first = "pr_merged_at <= deployed_at"
independent = "pr_approver <> pr_author"
tested = "ci_passed"
"#;

const OPERATIONS: &str = r#"# Operations: vulnerability scanning, alert response, incident response,
# postmortems and recovery.

[[control]]
id = "OPS-1"
title = "Production is scanned for vulnerabilities every day"
criteria = ["CC7.1"]
owner = "security@northwind.example"
frequency = "daily"
practice = "Nightly scans of every production target; results feed the vulnerability backlog."

[[control.evidence]]
name = "scan days"
# The calendar runs to the newest nightly backup: "yesterday" as the evidence sees it.
population = '''
SELECT c.day, coalesce(s.scans, 0) AS scans, coalesce(s.completed, 0) AS completed
FROM (SELECT unnest(generate_series(date_trunc('day', min(scanned_at)),
                                    (SELECT date_trunc('day', max(started_at)) FROM backups),
                                    INTERVAL 1 DAY)) AS day
      FROM vuln_scans) AS c
LEFT JOIN (SELECT date_trunc('day', scanned_at) AS day, count(*) AS scans,
                  count(*) FILTER (WHERE status = 'completed') AS completed
           FROM vuln_scans GROUP BY ALL) AS s USING (day)
'''
period = "day"
key = ["day"]
tests = { scanned = "scans > 0", completed = "completed = scans" }

[[control.evidence]]
name = "weekly scans"
# However the nightly schedule slips, no ISO week may pass without a scan.
source = "vuln_scans"
where = "status = 'completed'"
expect = "weekly"
tests = { completed = "status = 'completed'" }

[[control]]
id = "OPS-2"
title = "High-priority alerts are acknowledged within 30 minutes"
criteria = ["CC7.2"]
owner = "sre@northwind.example"
frequency = "per-event"
practice = "P1 and P2 alerts page the on-call engineer, who acknowledges in the paging tool."

[[control.evidence]]
name = "P1/P2 alerts"
source = "alerts"
where = "severity IN ('P1', 'P2')"

[control.evidence.tests]
acknowledged = "acknowledged_at IS NOT NULL AND acknowledged_by IS NOT NULL"
timely = "acknowledged_at <= fired_at + INTERVAL 30 MINUTE"

[[control]]
id = "OPS-3"
title = "Security alerts are triaged within four hours"
criteria = ["CC7.3", "CC7.2"]
owner = "security@northwind.example"
frequency = "per-event"
practice = "Security detections route to the security on-call rotation, who triage and record the outcome."

[[control.evidence]]
name = "security alerts"
source = "alerts"
where = "rule LIKE 'security.%'"
sample = 15
tests = { triaged = "acknowledged_by IS NOT NULL", timely = "acknowledged_at <= fired_at + INTERVAL 4 HOUR" }

[[control]]
id = "OPS-4"
title = "Customer-impacting incidents get a postmortem with action items within 10 days"
criteria = ["CC7.4", "CC7.3"]
owner = "sre@northwind.example"
frequency = "per-event"
practice = "The incident commander writes a blameless postmortem in the wiki; action items are tracked in the backlog."

[[control.evidence]]
name = "incidents"
source = "incidents"

[control.evidence.tests]
postmortem = "NOT customer_impact OR postmortem_completed_at IS NOT NULL"
timely = "NOT customer_impact OR postmortem_completed_at <= resolved_at + INTERVAL 10 DAY"
action_items = "NOT customer_impact OR action_items > 0"
# The postmortem is the artifact: a document in the register for the incident.
postmortem_filed = "NOT customer_impact OR EXISTS (SELECT 1 FROM documents d WHERE d.kind = 'postmortem' AND d.subject = incident_id)"

[[control]]
id = "OPS-5"
title = "Incidents are resolved, SEV1 within 12 hours"
criteria = ["CC7.5", "CC7.4"]
owner = "sre@northwind.example"
frequency = "per-event"
practice = "Runbooks and automated rollback restore service; the incident closes when customers are no longer affected."

[[control.evidence]]
name = "incidents"
source = "incidents"
tests = { resolved = "resolved_at > opened_at", sev1_restored = "severity <> 'SEV1' OR resolved_at <= opened_at + INTERVAL 12 HOUR" }

[[control]]
id = "OPS-6"
title = "Incidents are detected by monitoring"
criteria = ["CC7.2", "CC7.3"]
owner = "sre@northwind.example"
frequency = "per-event"
practice = "Every incident is opened from an alert, which links to it."

[[control.evidence]]
name = "incidents with their alert"
population = '''
SELECT i.incident_id, i.opened_at, i.severity, a.alert_id, a.fired_at AS alert_fired_at
FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.incident_id
'''
period = "opened_at"
key = ["incident_id"]
tests = { detected = "alert_id IS NOT NULL", detected_first = "alert_fired_at <= opened_at" }
"#;

const RESILIENCE: &str = r#"# Availability: nightly backups, monthly restore tests, weekly backup review.

[[control]]
id = "RES-1"
title = "Every production data store is backed up every night"
criteria = ["A1.2"]
owner = "sre@northwind.example"
frequency = "daily"
practice = "Scheduled snapshots each night; a failed run is retried the same night."

[[control.evidence]]
name = "system-nights"
population = '''
SELECT system, CAST(started_at AS DATE) AS backup_date, min(started_at) AS first_started_at,
       count(*) FILTER (WHERE status = 'success') AS successes
FROM backups GROUP BY ALL
'''
period = "first_started_at"
key = ["system", "backup_date"]
tests = { succeeded = "successes > 0" }

[[control.evidence]]
name = "nightly backups per system"
# Every data store in systems.toml, every night; a run may finish up to
# twelve hours into the next day.
source = "backups"
where = "status = 'success'"
applies_to = { kind = ["datastore"] }
system = "system"
expect = "daily"
per = ["system"]
grace = "12h"
tests = { succeeded = "status = 'success'" }

[[control]]
id = "RES-2"
title = "Backups are restore-tested every month"
criteria = ["A1.3", "A1.2"]
owner = "sre@northwind.example"
frequency = "monthly"
practice = "The first good backup of each month is restored into a scratch environment and checked."

[[control.evidence]]
name = "system-months"
population = '''
SELECT system, strftime(started_at, '%Y-%m') AS month, min(started_at) AS first_started_at,
       count(restore_tested_at) AS restore_tests
FROM backups GROUP BY ALL
'''
period = "first_started_at"
key = ["system", "month"]
tests = { restore_tested = "restore_tests > 0" }

[[control]]
id = "RES-3"
title = "The weekly backup report shows good, non-empty backups for every system"
criteria = ["A1.2"]
owner = "sre@northwind.example"
frequency = "weekly"
practice = "On Mondays the SRE on call reviews the backup report for failures and suspicious sizes."

[[control.evidence]]
name = "system-weeks"
population = '''
SELECT system, date_trunc('week', started_at) AS week, min(started_at) AS first_started_at,
       count(*) FILTER (WHERE status = 'success') AS successes,
       min(size_gb) FILTER (WHERE status = 'success') AS min_size_gb
FROM backups GROUP BY ALL
'''
period = "first_started_at"
key = ["system", "week"]
tests = { backed_up = "successes > 0", non_empty = "min_size_gb > 0" }
"#;

const VENDORS: &str = r#"# Vendor management.

[[control]]
id = "VEN-1"
title = "Critical and high-risk vendors are reviewed every year with a SOC 2 report"
criteria = ["CC9.2"]
owner = "security@northwind.example"
frequency = "annual"
practice = "Security reviews each critical or high vendor yearly, collects its SOC 2 report and schedules the next review."

[[control.evidence]]
name = "critical and high vendors"
source = "vendor_reviews"
where = "tier IN ('critical', 'high')"
tests = { soc2_report = "soc2_report_received", next_review_scheduled = "next_review_due <= reviewed_at + INTERVAL 366 DAY" }

[[control]]
id = "VEN-2"
title = "Every vendor in the register has a reviewer and a next review date"
criteria = ["CC9.2"]
owner = "security@northwind.example"
frequency = "annual"
practice = "The vendor register lists an accountable reviewer and the next review date for every vendor."

[[control.evidence]]
name = "vendor register"
source = "vendor_reviews"
expect = "annual"
per = ["vendor_id"]
tests = { reviewer = "reviewer IS NOT NULL", next_review_due = "next_review_due > reviewed_at" }
"#;
