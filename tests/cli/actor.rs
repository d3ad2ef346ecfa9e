//! Who the action log and the finding history say acted: $QUARTERDECK_ACTOR,
//! else the OS account the process runs as; never `unknown` for want of $USER.

use crate::common::{Run, Sandbox, scalar};

fn os_account() -> String {
    let id = std::process::Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(id.stdout).unwrap().trim().to_string()
}

#[test]
fn the_actor_is_the_os_account_unless_quarterdeck_actor_names_one() {
    let sb = Sandbox::new();
    let ws = sb.path().join("ws");
    sb.run(&["init", ws.to_str().unwrap()]).ok();
    let last_actor = || scalar(&ws, "SELECT actor FROM qd.action_log ORDER BY seq DESC LIMIT 1");
    let run = sb
        .command(&["--workspace", ws.to_str().unwrap(), "ingest", "deploys"])
        .env_remove("QUARTERDECK_ACTOR")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    Run::from(run).ok();
    let account = os_account();
    assert!(!account.is_empty() && account != "unknown");
    assert_eq!(last_actor(), account);
    assert_eq!(scalar(&ws, "SELECT actor FROM qd.ingest_runs ORDER BY run_id DESC LIMIT 1"), account);
    // $USER does not speak for the account.
    let run = sb
        .command(&["--workspace", ws.to_str().unwrap(), "ingest", "pull_requests"])
        .env_remove("QUARTERDECK_ACTOR")
        .env("USER", "somebody-else")
        .output()
        .unwrap();
    Run::from(run).ok();
    assert_eq!(last_actor(), account);
    let run = sb
        .command(&["--workspace", ws.to_str().unwrap(), "ingest", "deploys"])
        .env("QUARTERDECK_ACTOR", "ana@acme.example")
        .env_remove("USER")
        .output()
        .unwrap();
    Run::from(run).ok();
    assert_eq!(last_actor(), "ana@acme.example");
}
