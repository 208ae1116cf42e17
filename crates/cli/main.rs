//! The sops-like command-line tool. This is the only place that prints,
//! reads the environment and exits.
#![forbid(unsafe_code)]

mod args;
mod clock;
mod cmd;
mod config;
mod editor;
mod exit;
mod io;
mod keysource;
mod legacy;
mod multi;
mod publish;
mod sopsfile;
mod treepath;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    // The parser's definition is built once: for the legacy-form rewrite
    // and for parsing.
    let command = args::Cli::command();
    let argv = legacy::rewrite(&command, std::env::args_os().collect());
    let cli = match args::Cli::from_arg_matches(&command.get_matches_from(argv)) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cmd::plan::set_explicit_config(cli.config.clone());
    keysource::set_keyservices(&cli.keyservice);
    let result = match cli.command {
        args::Command::Encrypt(a) => cmd::encrypt::run(a),
        args::Command::Decrypt(a) => cmd::decrypt::run(a),
        args::Command::Filestatus(a) => cmd::filestatus::run(a),
        args::Command::Edit(a) => cmd::edit::run(a),
        args::Command::Rotate(a) => cmd::rotate::run(a),
        args::Command::ExecEnv(a) => cmd::exec::run_env(a),
        args::Command::ExecFile(a) => cmd::exec::run_file(a),
        args::Command::Keygen(a) => cmd::keygen::run(a),
        args::Command::Keyservice(a) => cmd::keyservice::run(a, cli.verbose),
        args::Command::Updatekeys(a) => cmd::updatekeys::run(a),
        args::Command::Publish(a) => cmd::publish::run(a, cli.verbose),
        args::Command::Groups(a) => cmd::groups::run(a),
        args::Command::Recipients(a) => cmd::recipients::run(a),
        args::Command::Set(a) => cmd::set::run_set(a),
        args::Command::Unset(a) => cmd::set::run_unset(a),
        args::Command::Completion(a) => completion(a.shell),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}

/// `completion SHELL`: the script for the shell, on stdout.
fn completion(shell: clap_complete::Shell) -> exit::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut args::Cli::command(), "sops-like", &mut out);
    io::write_stdout(&out)
}
