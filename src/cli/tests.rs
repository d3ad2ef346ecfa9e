//! The command line's own definition, checked as clap builds it.
//! Included from `cli/mod.rs` under #[cfg(test)].

use clap::CommandFactory;

use super::Cli;

/// Every argument of `command` and its subcommands, with the path to it.
fn every_argument(command: &clap::Command, path: &str, found: &mut Vec<(String, clap::Arg)>) {
    for arg in command.get_arguments() {
        found.push((path.to_string(), arg.clone()));
    }
    for sub in command.get_subcommands() {
        every_argument(sub, &format!("{path} {}", sub.get_name()), found);
    }
}

#[test]
fn every_argument_and_option_says_what_it_is_for() {
    let mut command = Cli::command();
    command.build();
    let mut found = Vec::new();
    every_argument(&command, "quarterdeck", &mut found);
    assert!(found.len() > 60, "{}", found.len());
    let missing: Vec<String> = found
        .iter()
        .filter(|(_, arg)| !matches!(arg.get_id().as_str(), "help" | "version"))
        .filter(|(_, arg)| arg.get_help().is_none_or(|h| h.to_string().trim().is_empty()))
        .map(|(path, arg)| format!("{path} {}", arg.get_id()))
        .collect();
    assert!(missing.is_empty(), "arguments without help: {missing:#?}");
}

#[test]
fn global_options_have_their_own_heading_everywhere() {
    let mut command = Cli::command();
    command.build();
    let mut found = Vec::new();
    every_argument(&command, "quarterdeck", &mut found);
    for (path, arg) in found.iter().filter(|(_, a)| a.is_global_set()) {
        assert_eq!(arg.get_help_heading(), Some("Global options"), "{path} --{}", arg.get_id());
    }
    let globals = found.iter().filter(|(p, a)| p == "quarterdeck audit show" && a.is_global_set()).count();
    assert!(globals >= 3, "globals propagate to subcommands: {globals}");
}

#[test]
fn every_subcommand_has_a_version() {
    let mut command = Cli::command();
    command.build();
    fn walk(command: &clap::Command) {
        assert!(command.get_version().is_some(), "{} has no --version", command.get_name());
        command.get_subcommands().filter(|s| s.get_name() != "help").for_each(walk);
    }
    walk(&command);
}
