//! An audit's samples during fieldwork: drawn once, frozen, and shown as
//! frozen afterwards; a redraw needs a reason and is logged.

use serde_json::json;

use super::rank::sample_seed;
use super::{Sample, draw, store};
use crate::audit::{AuditError, find_control, find_spec, record};
use crate::workspace::Workspace;
use crate::workspace::action_log;
use crate::workspace::mapping::Mappings;

/// How to obtain an audit's sample of a control's spec.
#[derive(Debug, Clone, Default)]
pub struct SampleRequest<'a> {
    pub audit: &'a str,
    pub control: &'a str,
    /// Needed when the control has several specs.
    pub spec: Option<&'a str>,
    /// Sample size (default: by the control's frequency, or the spec's own).
    pub n: Option<u32>,
    /// Draw again, replacing the frozen sample, for this logged reason.
    pub redraw: Option<&'a str>,
    /// On a redraw, a new audit seed.
    pub seed: Option<&'a str>,
}

/// The audit's frozen sample as stored; never draws one (an audit draws
/// every sample as it starts).
pub fn frozen_sample(
    ws: &Workspace,
    mappings: &Mappings,
    audit: &str,
    control: &str,
    spec: &str,
) -> Result<Sample, AuditError> {
    let control = find_control(mappings, control)?;
    let spec = find_spec(control, Some(spec))?;
    let audit = record::load(ws, audit)?.ok_or_else(|| AuditError::UnknownAudit(audit.into()))?;
    if !audit.controls.contains(&control.id) {
        return Err(AuditError::NotInScope { audit: audit.label, control: control.id.clone() });
    }
    match store::load_current(ws, &audit.label, &control.id, &spec.name)? {
        Some((_, sample)) => Ok(sample),
        None => Err(AuditError::NotDrawn { audit: audit.label, control: control.id.clone(), spec: spec.name.clone() }),
    }
}

/// The audit's frozen sample, drawn and frozen (and logged) the first time.
pub fn audit_sample(ws: &Workspace, mappings: &Mappings, request: &SampleRequest) -> Result<Sample, AuditError> {
    let control = find_control(mappings, request.control)?;
    let spec = find_spec(control, request.spec)?;
    let audit = record::load(ws, request.audit)?.ok_or_else(|| AuditError::UnknownAudit(request.audit.into()))?;
    if request.redraw.is_none()
        && let Some((_, sample)) = store::load_current(ws, &audit.label, &control.id, &spec.name)?
    {
        return Ok(sample);
    }
    let audit = record::open_for_change(ws, &audit.label)?;
    ws.ensure_writable("drawing a sample")?;
    if !audit.controls.contains(&control.id) {
        return Err(AuditError::NotInScope { audit: audit.label, control: control.id.clone() });
    }
    let reason = match request.redraw {
        Some(r) if !r.trim().is_empty() => Some(r.to_string()),
        Some(_) => return Err(AuditError::RedrawNeedsReason),
        None => None,
    };
    let audit_seed = request.seed.unwrap_or(&audit.seed);
    let seed = sample_seed(audit_seed, &control.id, &spec.name);
    let n = request.n.unwrap_or_else(|| super::default_size(ws, control, spec));
    let sample = draw(ws, control, spec, &audit.period, &seed, n)?;
    action_log::change(ws, || -> Result<(), AuditError> {
        let id = store::store(ws, Some(&audit.label), &sample, reason.as_deref())?;
        action_log::append(
            ws,
            if reason.is_some() { "sample.redraw" } else { "sample.draw" },
            json!({"audit": audit.label, "control": control.id, "spec": spec.name, "sample_id": id,
                   "seed": sample.seed, "population_count": sample.population_count,
                   "fingerprint": sample.fingerprint, "size": sample.size, "reason": reason,
                   "rows_sha256": crate::audit::replay::rows_digest(&ws.conn, id)?}),
        )?;
        Ok(())
    })?;
    Ok(sample)
}
