//! The demo's documents: `documents.toml` and the files under
//! `documents/` — policies (one of them overdue for its annual review),
//! board minutes for each quarter, the risk assessment, two vendor SOC 2
//! reports (one attesting to a window that ended over a year ago), the
//! pentest and its retest, and a postmortem for each incident that had one,
//! declaring itself in `+++` front matter. Dates follow the as-of date, so
//! the gaps fall in the last full quarter whatever day the demo is run.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::clock::fmt_date;
use super::sources::Incident;
use super::{Ctx, DemoError, PlantedGap, io_err};
use crate::workspace::documents::DocumentError;
use crate::workspace::documents::collect::{Collection, collect};

/// The document whose file `quarterdeck demo` edits after collecting it.
pub const CHANGED_DOCUMENT: (&str, &str) = ("POL-NETWORK", "documents/policies/network-security.md");

const SECURITY: &str = "security@northwind.example";
const CTO: &str = "cto@northwind.example";
const BOARD: &str = "board-secretary@northwind.example";

/// A file written, with its count (see `DemoSummary::files`).
type FileRows = (PathBuf, u64);

/// One register entry.
struct Entry {
    id: String,
    title: String,
    kind: &'static str,
    version: String,
    file: String,
    effective: NaiveDate,
    covers: Option<(NaiveDate, NaiveDate)>,
    owner: &'static str,
    approved: Option<(&'static str, NaiveDate)>,
    renew: Option<&'static str>,
    subject: Option<String>,
    control: &'static str,
}

/// Policies: id, title, control, file stem, days before the as-of date it
/// took effect (95 to 330: before the quarter's end, reviewed within the
/// year before it, and not due for renewal within a month of the as-of
/// date — except the endpoint policy, due within the month), and what it
/// requires.
const POLICIES: [(&str, &str, &str, &str, i64, &str); 10] = [
    (
        "POL-CONDUCT",
        "Code of Conduct",
        "GOV-2",
        "code-of-conduct",
        330,
        "Every employee and contractor acknowledges the code at hire and each year; violations are reported to People and handled under the disciplinary procedure.",
    ),
    (
        "POL-ORG",
        "Security Organization and Responsibilities",
        "GOV-2",
        "security-organization",
        300,
        "The CTO owns the security program; the security team reports to the CTO and to the board quarterly; every role's security duties are in its job description, and performance reviews assess them.",
    ),
    (
        "POL-COMMS",
        "Security Communication",
        "GOV-2",
        "security-communication",
        270,
        "Policies are published on the intranet; changes are announced to all staff; customers learn of security commitments and incidents through the trust page and their contracts.",
    ),
    (
        "POL-ACCESS",
        "Access Control Policy",
        "GOV-3",
        "access-control",
        240,
        "Access is granted by role on an approved request, reviewed each quarter, and removed within one business day of departure.",
    ),
    (
        "POL-PHYSICAL",
        "Physical Security Policy",
        "GOV-3",
        "physical-security",
        210,
        "Production runs in the cloud provider's data centres, whose physical controls are attested in its SOC 2 report; offices use badge access, logged and reviewed monthly.",
    ),
    (
        "POL-MEDIA",
        "Media and Asset Disposal Policy",
        "GOV-3",
        "media-disposal",
        180,
        "Laptops and drives are wiped to NIST 800-88 before reuse or destroyed by a certified vendor, with a certificate of destruction kept for each asset.",
    ),
    (
        CHANGED_DOCUMENT.0,
        "Network Security Policy",
        "GOV-3",
        "network-security",
        150,
        "Production networks deny by default; ingress is through the load balancers only; security groups are managed as code and reviewed on change.",
    ),
    (
        "POL-ENCRYPTION",
        "Encryption Policy",
        "GOV-3",
        "encryption",
        120,
        "Data is encrypted in transit with TLS 1.2 or later and at rest with AES-256; keys live in the cloud KMS and rotate yearly; removable media is not used for customer data.",
    ),
    (
        "POL-CONTINUITY",
        "Business Continuity and Disaster Recovery Plan",
        "RSK-1",
        "business-continuity",
        100,
        "Recovery objectives: RPO 24 hours, RTO 8 hours for the customer platform; backups are tested by restore each quarter; the plan is exercised once a year.",
    ),
    (
        "POL-ENDPOINT",
        "Endpoint Protection Policy",
        "GOV-3",
        "endpoint-protection",
        345,
        "Company laptops run the managed EDR agent and disk encryption; software outside the approved catalogue is blocked; agents that stop reporting for 7 days are investigated.",
    ),
];

/// Writes `documents.toml` and the files; returns the files written (with
/// a count of one each) and the gaps planted in them.
pub(crate) fn write(ctx: &Ctx, incidents: &[Incident]) -> Result<(Vec<FileRows>, Vec<PlantedGap>), DemoError> {
    let q = day(ctx.clock.lfq.0);
    let as_of = ctx.opts.as_of;
    let months_before = |n: u32| q.checked_sub_months(Months::new(n)).unwrap_or(q);
    let mut entries = Vec::new();
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();

    // The information security policy: last reviewed 14 months before the
    // quarter, so its annual review is overdue (planted); its earlier
    // version is superseded.
    for (version, months) in [("3.0", 26), ("3.1", 14)] {
        let effective = months_before(months);
        let file = format!("documents/policies/information-security-{version}.md");
        bodies.push((file.clone(), policy_text("Information Security Policy", version, effective, "The security program protects the confidentiality, integrity and availability of customer data. Every system in scope is owned, inventoried, monitored and recoverable; every exception to a policy is approved by the CTO and time-limited.").into_bytes()));
        entries.push(Entry {
            id: "POL-ISP".into(),
            title: "Information Security Policy".into(),
            kind: "policy",
            version: version.into(),
            file,
            effective,
            covers: None,
            owner: SECURITY,
            approved: Some((CTO, effective - Duration::days(6))),
            renew: Some("1y"),
            subject: None,
            control: "GOV-2",
        });
    }
    for (id, title, control, stem, days, rule) in POLICIES {
        let effective = as_of - Duration::days(days);
        let file = format!("documents/policies/{stem}.md");
        bodies.push((file.clone(), policy_text(title, "1.0", effective, rule).into_bytes()));
        entries.push(Entry {
            id: id.into(),
            title: title.into(),
            kind: "policy",
            version: "1.0".into(),
            file,
            effective,
            covers: None,
            owner: SECURITY,
            approved: Some((CTO, effective - Duration::days(5))),
            renew: Some("1y"),
            subject: None,
            control,
        });
    }
    // Board minutes: a meeting in the middle month of each quarter.
    for back in 0..4u32 {
        let quarter = months_before(3 * back);
        let meeting = quarter.checked_add_months(Months::new(1)).unwrap_or(quarter) + Duration::days(14);
        if meeting >= as_of {
            continue;
        }
        let label = format!("{}-Q{}", quarter.year(), quarter.month0() / 3 + 1);
        let file = format!("documents/minutes/board-{label}.md");
        bodies.push((file.clone(), minutes_text(&label, meeting).into_bytes()));
        entries.push(Entry {
            id: format!("MIN-BOARD-{label}"),
            title: format!("Board meeting minutes, {label}"),
            kind: "minutes",
            version: "1".into(),
            file,
            effective: meeting,
            covers: None,
            owner: BOARD,
            approved: Some(("chair@northwind.example", meeting)),
            renew: None,
            subject: None,
            control: "GOV-1",
        });
    }
    let assessed = as_of - Duration::days(200);
    bodies.push(("documents/risk/risk-assessment.md".into(), risk_text(assessed).into_bytes()));
    entries.push(Entry {
        id: "RA-ANNUAL".into(),
        title: "Annual risk assessment".into(),
        kind: "risk-assessment",
        version: assessed.year().to_string(),
        file: "documents/risk/risk-assessment.md".into(),
        effective: assessed,
        covers: None,
        owner: SECURITY,
        approved: Some((CTO, assessed - Duration::days(3))),
        renew: Some("1y"),
        subject: None,
        control: "RSK-1",
    });
    // Vendor reports: Cumulus's attests to the year up to a month into the
    // quarter, issued within it; Ledgerly's ended 18 months before it
    // (planted: out of date).
    let current = (months_before(11), q.checked_add_months(Months::new(1)).unwrap_or(q) - Duration::days(1));
    let stale = (months_before(30), months_before(18) - Duration::days(1));
    for (id, vendor, subject, covers) in [
        ("VEN-CUMULUS-SOC2", "Cumulus Compute", "VEN-001", current),
        ("VEN-LEDGERLY-SOC2", "Ledgerly Payments", "VEN-002", stale),
    ] {
        let effective = covers.1 + Duration::days(45);
        let file =
            format!("documents/vendors/{}-soc2-{}.pdf", id[4..].to_lowercase().replace("-soc2", ""), covers.1.year());
        let lines = [
            format!("{vendor}: SOC 2 Type 2 report"),
            format!("Period: {} to {}", covers.0, covers.1),
            format!("Issued {effective} by an independent service auditor."),
            "Opinion: unqualified. Complementary user entity controls: section 4.".to_string(),
        ];
        bodies.push((file.clone(), pdf(&lines)));
        entries.push(Entry {
            id: id.into(),
            title: format!("{vendor} SOC 2 Type 2 report"),
            kind: "vendor-report",
            version: covers.1.year().to_string(),
            file,
            effective,
            covers: Some(covers),
            owner: SECURITY,
            approved: None,
            renew: None,
            subject: Some(subject.into()),
            control: "VEN-3",
        });
    }
    // The pentest in the quarter's first weeks, and its retest a month on.
    let tested = (q + Duration::days(14), q + Duration::days(23));
    let retested = (q + Duration::days(45), q + Duration::days(47));
    for (id, title, covers, subject) in [
        ("PT-EXTERNAL", "External penetration test", tested, None),
        ("PT-EXTERNAL-RETEST", "External penetration test: retest of findings", retested, Some("PT-EXTERNAL")),
    ] {
        let effective = covers.1 + Duration::days(7);
        let file = format!("documents/pentest/{}.pdf", id.to_lowercase());
        let lines = [
            title.to_string(),
            format!("Testing window: {} to {}", covers.0, covers.1),
            "Scope: app.northwind.example, api.northwind.example, the customer VPN.".to_string(),
            "Findings: 0 critical, 1 high (fixed and retested), 4 medium, 6 low.".to_string(),
        ];
        bodies.push((file.clone(), pdf(&lines)));
        entries.push(Entry {
            id: id.into(),
            title: title.into(),
            kind: "pentest",
            version: covers.1.year().to_string(),
            file,
            effective,
            covers: Some(covers),
            owner: SECURITY,
            approved: None,
            renew: Some("1y"),
            subject: subject.map(String::from),
            control: "MON-1",
        });
    }

    let root = ctx.dir;
    let mut files = Vec::new();
    let write = |rel: &str, bytes: &[u8]| -> Result<PathBuf, DemoError> {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::write(&path, bytes).map_err(io_err(&path))?;
        Ok(PathBuf::from(rel))
    };
    files.push((
        write(crate::workspace::documents::REGISTER_FILE, register_text(&entries).as_bytes())?,
        entries.len() as u64,
    ));
    for (rel, bytes) in &bodies {
        files.push((write(rel, bytes)?, 1));
    }
    // Postmortems declare themselves in front matter, one per incident that had one.
    for incident in incidents {
        let Some(at) = incident.postmortem_at else { continue };
        let rel = format!("documents/postmortems/{}.md", incident.id);
        files.push((write(&rel, postmortem_text(incident, at).as_bytes())?, 1));
    }
    let planted = vec![
        PlantedGap {
            kind: "overdue-policy-review",
            source: crate::workspace::documents::SOURCE,
            key: "POL-ISP | 3.1".into(),
            description: format!(
                "the Information Security Policy 3.1 took effect {} and was due for its annual review {}; no later version",
                months_before(14),
                months_before(2)
            ),
        },
        PlantedGap {
            kind: "stale-vendor-report",
            source: crate::workspace::documents::SOURCE,
            key: format!("VEN-LEDGERLY-SOC2 | {}", stale.1.year()),
            description: format!(
                "Ledgerly Payments' SOC 2 report attests to {} to {}, ended over a year before the quarter",
                stale.0, stale.1
            ),
        },
        PlantedGap {
            kind: "changed-document",
            source: crate::workspace::documents::SOURCE,
            key: format!("{} | 1.0", CHANGED_DOCUMENT.0),
            description: format!("{} is edited after `quarterdeck demo` collected it", CHANGED_DOCUMENT.1),
        },
    ];
    Ok((files, planted))
}

/// What `quarterdeck demo` does with the documents once the evidence is
/// ingested: collects them, then plants the last gap — one policy edited
/// after it was collected.
pub fn collect_and_plant(ws: &crate::workspace::Workspace) -> Result<Collection, DocumentError> {
    use std::io::Write as _;
    let mappings = crate::workspace::mapping::Mappings::load(&ws.root);
    let collection = collect(ws, &mappings, &[])?;
    let path = ws.root.join(CHANGED_DOCUMENT.1);
    let io = |source| DocumentError::Io { path: path.clone(), source };
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).map_err(io)?;
    file.write_all(b"\nException: the legacy billing VPC allows SSH from the office range until further notice.\n")
        .map_err(io)?;
    Ok(collection)
}

fn day(t: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp(t, 0).map_or(NaiveDate::MIN, |d| d.date_naive())
}

fn register_text(entries: &[Entry]) -> String {
    let mut out = String::from(
        "# The document register: what each document is, when it took effect and\n\
         # which controls it supports. Postmortems declare themselves in front\n\
         # matter (documents/postmortems/*.md). See docs/documents.md.\n",
    );
    for e in entries {
        let _ = write!(
            out,
            "\n[[document]]\nid = \"{}\"\ntitle = \"{}\"\nkind = \"{}\"\nversion = \"{}\"\nfiles = [\"{}\"]\neffective = {}\n",
            e.id, e.title, e.kind, e.version, e.file, e.effective
        );
        if let Some((from, to)) = e.covers {
            let _ = writeln!(out, "covers = {{ from = {from}, to = {to} }}");
        }
        let _ = writeln!(out, "owner = \"{}\"", e.owner);
        if let Some((by, at)) = e.approved {
            let _ = writeln!(out, "approved_by = \"{by}\"\napproved_at = {at}");
        }
        if let Some(renew) = e.renew {
            let _ = writeln!(out, "renew = \"{renew}\"");
        }
        if let Some(subject) = &e.subject {
            let _ = writeln!(out, "subject = \"{subject}\"");
        }
        let _ = writeln!(out, "controls = [\"{}\"]", e.control);
    }
    out
}

fn policy_text(title: &str, version: &str, effective: NaiveDate, rule: &str) -> String {
    format!(
        "# {title}\n\nVersion {version}, effective {effective}. Owner: the security team. Approved by the CTO.\n\n\
         ## Purpose\n\nThis policy sets what Northwind Cloud requires so that its commitments to customers hold.\n\n\
         ## Policy\n\n{rule}\n\n## Review\n\nThe owner reviews this policy at least once a year and on any significant change; \
         the CTO approves each version before it takes effect.\n"
    )
}

fn minutes_text(label: &str, meeting: NaiveDate) -> String {
    format!(
        "# Board of directors: minutes, {label}\n\nMeeting of {meeting}. Present: the full board, the CEO and the CTO.\n\n\
         1. Security report (CTO): open audit findings and their due dates, the quarter's incidents, access reviews completed.\n\
         2. Risk register: no new high risks; the vendor review backlog is tracked.\n\
         3. The board approved the minutes of the previous meeting.\n"
    )
}

fn risk_text(assessed: NaiveDate) -> String {
    format!(
        "# Annual risk assessment\n\nAssessed {assessed} by the security team with engineering and finance.\n\n\
         | risk | likelihood | impact | treatment |\n| --- | --- | --- | --- |\n\
         | Account takeover of an administrator | medium | high | MFA everywhere, access reviews |\n\
         | Fraudulent payment changes | low | high | dual approval in the payments system |\n\
         | Loss of the primary region | low | high | cross-region backups, recovery tests |\n\
         | A critical vendor's breach | medium | medium | vendor reviews, SOC 2 reports |\n\n\
         Significant changes considered: the new data warehouse, the EU expansion.\n"
    )
}

fn postmortem_text(incident: &Incident, at: i64) -> String {
    let written = fmt_date(at);
    format!(
        "+++\nid = \"PM-{id}\"\ntitle = \"Postmortem: {title}\"\nkind = \"postmortem\"\neffective = {written}\n\
         owner = \"sre@northwind.example\"\nsubject = \"{id}\"\ncontrols = [\"OPS-4\"]\n+++\n\
         # Postmortem: {id}\n\n{title}. Resolved {resolved}.\n\n## What happened\n\nThe {service} service degraded; \
         the on-call engineer was paged and mitigated.\n\n## Action items\n\n- Add an alert on the leading signal.\n- Load-test the fix.\n",
        id = incident.id,
        title = incident.title.replace('"', "'"),
        resolved = super::clock::fmt_ts(incident.resolved_at),
        service = incident.service,
    )
}

/// A one-page PDF with these lines of text (Helvetica), valid enough for
/// any viewer: objects, a cross-reference table with exact offsets.
fn pdf(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 72 720 Td 16 TL");
    for line in lines {
        let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        let _ = write!(text, " ({escaped}) '");
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(out, "{offset:010} 00000 n ");
    }
    let _ = write!(out, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.into_bytes()
}
