use super::*;
use crate::warehouse::defer::{Deferred, perform};
use crate::warehouse::scratch::ScratchCluster;
use crate::workspace::period::Period;
use crate::workspace::{Access, Workspace};

const CONFIG: &str = "[workspace]\nname = \"Deferred draws\"\ntimezone = \"UTC\"\n\n\
    [[warehouse]]\nname = \"pg\"\nkind = \"postgres\"\nurl_env = \"QD_TEST_AUDITS_PG_URL\"\n\n\
    [[source]]\nname = \"signins\"\nwarehouse = \"pg\"\ntable = \"public.signins\"\nkey = [\"id\"]\ntimestamp = \"at\"\n\n\
    [[source]]\nname = \"changes\"\nwarehouse = \"pg\"\ntable = \"public.changes\"\nkey = [\"id\"]\ntimestamp = \"at\"\n";

fn control(id: &str, source: &str) -> String {
    format!(
        "[[control]]\nid = \"{id}\"\ntitle = \"t\"\ncriteria = [\"CC6.1\"]\nowner = \"o@example\"\n\
         frequency = \"per-event\"\npractice = \"p\"\n\n[[control.evidence]]\nname = \"{source}\"\n\
         source = \"{source}\"\nsample = 5\ntests = {{ ok = \"ok\" }}\n\n"
    )
}

/// The samples of an audit, as text to compare.
fn samples(ws: &Workspace, label: &str) -> String {
    ws.conn
        .query_row(
            "SELECT string_agg(s.control || ':' || s.population_count || ':' || s.fingerprint || ':' || r.key, ','
                     ORDER BY s.control, r.rank)
             FROM qd.samples s JOIN qd.sample_rows r USING (sample_id) WHERE s.audit = ?",
            [label],
            |r| r.get(0),
        )
        .expect("samples")
}

/// In the TUI a draw from a warehouse is asked for, answered off the
/// database thread and the start served again: one attempt asks for every
/// warehouse draw of the audit, not one per attempt, and the second stores
/// the same samples as a start over live sessions.
#[test]
fn an_audit_start_asks_for_every_warehouse_draw_in_one_attempt() {
    let Some(pg) = ScratchCluster::start("audits").expect("cluster") else {
        assert!(std::env::var_os("QUARTERDECK_REQUIRE_POSTGRES").is_none(), "no PostgreSQL server binaries");
        return;
    };
    for table in ["signins", "changes"] {
        pg.psql(&format!(
            "CREATE TABLE public.{table} (id text, ok boolean, at timestamp);
             INSERT INTO public.{table} SELECT '{table}-' || i, i % 4 <> 0, TIMESTAMP '2026-07-01' + i * INTERVAL '1 hour'
             FROM generate_series(1, 300) AS i"
        ))
        .expect("table");
    }
    // SAFETY of the env: a name no other test reads, set before this test's sessions start.
    unsafe { std::env::set_var("QD_TEST_AUDITS_PG_URL", pg.url("secret")) };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ws");
    std::fs::create_dir_all(root.join("controls")).expect("mkdir");
    std::fs::write(root.join("quarterdeck.toml"), CONFIG).expect("config");
    std::fs::write(root.join("controls/c.toml"), control("AC-1", "signins") + &control("CHG-1", "changes"))
        .expect("controls");
    let mut ws = Workspace::open(&root, Access::ReadWrite).expect("open");
    for source in ["signins", "changes"] {
        crate::workspace::ingest::ingest(&ws, source, &[]).expect("refresh");
    }
    let mappings = Mappings::load(&ws.root);
    let period = Period::parse("2026-Q3", ws.config.timezone).expect("period");
    start(&ws, &mappings, "LIVE", &period, &Scope::All, Some("s".into())).expect("a live start");

    let book = Deferred::default();
    ws.deferred = Some(book.clone());
    let waiting = start(&ws, &mappings, "2026-Q3", &period, &Scope::All, Some("s".into()));
    assert!(matches!(waiting, Err(AuditError::Warehouse(crate::warehouse::WarehouseError::Pending { .. }))));
    let asked = book.take_asked();
    assert_eq!(asked.len(), 2, "both draws asked for at once: {asked:?}");
    let cancel = crate::warehouse::Cancel::default();
    book.answer(asked.iter().map(|ask| (ask.clone(), perform(&ws.config, &cancel, ask))).collect());
    start(&ws, &mappings, "2026-Q3", &period, &Scope::All, Some("s".into())).expect("served with the answers");
    assert!(!book.awaiting(), "nothing more was asked");
    assert_eq!(samples(&ws, "2026-Q3"), samples(&ws, "LIVE"));
    assert_eq!(samples(&ws, "LIVE").matches("AC-1:300:").count(), 5, "{}", samples(&ws, "LIVE"));
}
