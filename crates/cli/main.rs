//! The sops-like command-line tool. This is the only place that prints,
//! reads the environment and exits.
#![forbid(unsafe_code)]

/// `eprintln!` that never panics, and writes the whole message at once: a
/// stderr whose reader went away (`2>&1 | head -c 80`) must not turn an
/// error's exit code into a panic's (101), nor cut a message in two writes.
macro_rules! stderr {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut text = format!($($arg)*);
        text.push('\n');
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }};
}

mod args;
mod clock;
mod cmd;
mod config;
mod editor;
mod exit;
mod goflags;
mod inbuf;
mod io;
mod json;
mod keysource;
mod legacy;
mod multi;
mod publish;
mod signals;
mod sopsfile;
mod treepath;
mod workdir;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

fn main() -> ExitCode {
    // The parser's definition is built once: for the legacy-form rewrite
    // and for parsing.
    // A flag given twice takes its last value, as in sops (wrappers add
    // their own `--input-type` after the user's); flags that collect
    // (`--keyservice`, `groups add --age`) keep every value.
    let mut command = args::Cli::command().args_override_self(true);
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.len() <= 1 {
        // sops with no arguments: "no file specified", exit 100.
        stderr!("error: no file specified\n  hint: sops-like --help lists the commands");
        return ExitCode::from(100);
    }
    let (argv, respelled) = goflags::normalize(&command, argv);
    for warning in &respelled {
        stderr!("warning: {warning}");
    }
    let argv = match goflags::help_topic(&command, argv) {
        Ok(argv) => argv,
        Err(refused) => {
            stderr!("{refused}");
            return ExitCode::from(3);
        }
    };
    let rewritten = legacy::rewrite(&command, without_empty_values(argv));
    for warning in &rewritten.warnings {
        stderr!("warning: {warning}");
    }
    if let Some(failure) = &rewritten.error {
        stderr!("{failure}");
        return ExitCode::from(u8::try_from(failure.code).unwrap_or(1));
    }
    let argv = rewritten.args;
    let matches = match command.try_get_matches_from_mut(argv.iter()) {
        Ok(m) => m,
        Err(e) => return usage_error(&command, &argv, &e),
    };
    let cli = match args::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // `SOPS_CONFIG` if there is no `--config`; an empty one is not given,
    // as in sops (clap refuses an empty variable).
    let config = cli
        .config
        .clone()
        .or_else(|| std::env::var_os("SOPS_CONFIG").map(std::path::PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty());
    let cli = args::Cli { config, ..cli };
    cmd::plan::set_explicit_config(cli.config.clone());
    keysource::set_keyservices(&cli.keyservice);
    let result = config_exists(cli.config.as_deref()).and_then(|()| run(cli.command, cli.verbose));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            stderr!("{failure}");
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}

/// Report a command line clap refused, with sops's exit code for it
/// (help and version requests print and exit 0 as usual).
fn usage_error(command: &clap::Command, argv: &[std::ffi::OsString], e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let _ = e.print();
    let path = subcommand_path(command, argv);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    ExitCode::from(u8::try_from(exit::usage_code(&path, e)).unwrap_or(2))
}

/// The subcommand names at the start of `argv` (`["groups", "delete"]`),
/// skipping flags and the values of flags that take one.
fn subcommand_path(command: &clap::Command, argv: &[std::ffi::OsString]) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = command;
    let mut words = argv.iter().skip(1).map(|w| w.to_string_lossy());
    while let Some(w) = words.next() {
        if w == "--" {
            break;
        }
        if let Some(flag) = w.strip_prefix('-') {
            let takes_value = |a: &clap::Arg| a.get_action().takes_values();
            let find = |c: &clap::Command| -> bool {
                c.get_arguments().any(|a| match flag.strip_prefix('-') {
                    Some(long) => {
                        !long.contains('=') && a.get_long() == Some(long) && takes_value(a)
                    }
                    None => {
                        flag.chars().count() == 1
                            && a.get_short().is_some_and(|s| flag.starts_with(s))
                            && takes_value(a)
                    }
                })
            };
            if find(current) || find(command) {
                words.next();
            }
            continue;
        }
        match current.find_subcommand(w.as_ref()) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                current = sub;
            }
            None => break,
        }
    }
    path
}

/// As sops: a `--config` / `SOPS_CONFIG` file that is not there stops every
/// command (exit 1), even one that would not read it.
/// The flags whose empty value means "not given", as in sops (a script's
/// `--filename-override "$NAME"` with `NAME` unset must not match the
/// creation rules against an empty name, or pick the binary format).
const EMPTY_IS_ABSENT: [&str; 7] = [
    "--filename-override",
    "--input-type",
    "--output-type",
    "--config",
    "--output",
    "--user",
    "--filename",
];

/// `argv` without those flags where their value is empty (`--flag ''`,
/// `--flag=`). Everything after a lone `--` is left as it is.
fn without_empty_values(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        let text = arg.to_str().unwrap_or_default();
        if EMPTY_IS_ABSENT.contains(&text) && args.peek().is_some_and(|v| v.is_empty()) {
            args.next();
            continue;
        }
        if text
            .strip_suffix('=')
            .is_some_and(|flag| EMPTY_IS_ABSENT.contains(&flag))
        {
            continue;
        }
        out.push(arg);
    }
    out
}

/// `--config PATH` must name something to read: a file, or anything else
/// that is not a directory (`/dev/null`, an empty configuration, as sops
/// reads it).
fn config_exists(path: Option<&std::path::Path>) -> exit::Result<()> {
    let Some(p) = path else { return Ok(()) };
    // The reason as the system gives it (missing, a directory, no
    // permission on the way), as sops reports it.
    let why = match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::io::Error::from(std::io::ErrorKind::IsADirectory),
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    Err(exit::Failure::new(
        exit::code::GENERIC,
        format!("could not read config file {}: {why}", p.display()),
    ))
}

fn run(command: args::Command, verbose: bool) -> exit::Result<()> {
    match command {
        args::Command::Encrypt(a) => cmd::encrypt::run(a),
        args::Command::Decrypt(a) => cmd::decrypt::run(a),
        args::Command::Filestatus(a) => cmd::filestatus::run(a),
        args::Command::Edit(a) => cmd::edit::run(a),
        args::Command::Rotate(a) => cmd::rotate::run(a),
        args::Command::ExecEnv(a) => cmd::exec::run_env(a),
        args::Command::ExecFile(a) => cmd::exec::run_file(a),
        args::Command::Keygen(a) => cmd::keygen::run(a),
        args::Command::Keyservice(a) => cmd::keyservice::run(a, verbose),
        args::Command::Updatekeys(a) => cmd::updatekeys::run(a),
        args::Command::Publish(a) => cmd::publish::run(a, verbose),
        args::Command::Groups(a) => match a.command {
            Some(c) => cmd::groups::run(c),
            None => help_of("groups"),
        },
        args::Command::Recipients(a) => cmd::recipients::run(a),
        args::Command::Set(a) => cmd::set::run_set(a),
        args::Command::Unset(a) => cmd::set::run_unset(a),
        args::Command::Completion(a) => completion(a.shell),
    }
}

/// A subcommand's help on stdout (exit 0): what sops prints for a command
/// group given without its subcommand.
fn help_of(name: &str) -> exit::Result<()> {
    let mut cli = args::Cli::command();
    cli.build();
    let help = cli
        .find_subcommand_mut(name)
        .map(|c| c.render_help().to_string())
        .unwrap_or_default();
    io::write_stdout(help.as_bytes())
}

/// `completion SHELL`: the script for the shell, on stdout.
fn completion(shell: clap_complete::Shell) -> exit::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut args::Cli::command(), "sops-like", &mut out);
    io::write_stdout(&out)
}
