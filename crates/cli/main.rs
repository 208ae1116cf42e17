//! The sops-like command-line tool. This is the only place that prints,
//! reads the environment and exits.
#![forbid(unsafe_code)]

mod args;
mod clock;
mod cmd;
mod config;
mod exit;
mod io;
mod keysource;
mod treepath;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Encrypt(a) => cmd::encrypt::run(a),
        args::Command::Decrypt(a) => cmd::decrypt::run(a),
        args::Command::Filestatus(a) => cmd::filestatus::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}
