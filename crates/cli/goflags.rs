//! The command-line spellings sops takes (Go's `flag` package under
//! urfave/cli v1), rewritten before parsing into the ones clap takes, so
//! that a sops command line means the same here:
//! - `-name` and `-name=value` are `--name` and `--name=value` (Go has no
//!   clusters of one-letter flags: `-verbose` is not `-v -e -r …`);
//! - a boolean flag may be given a value, any of Go's `strconv.ParseBool`
//!   spellings: `--ignore-mac=false` is off (dropped), `-i=true` is on;
//! - a flag's value is the next argument, whatever it starts with:
//!   `--encrypted-regex -x` becomes `--encrypted-regex=-x` (clap would take
//!   `-x` for a flag);
//! - `exec-env FILE CMD --user nobody`: urfave/cli reads a subcommand's flags
//!   after its arguments too, so `exec-env`'s and `exec-file`'s own flags
//!   written after the command are moved before the file (not after a
//!   `--`, and not words the subcommand has no flag for, which stay the
//!   command's arguments);
//! - `h` is urfave's alias of `help`;
//! - `--x` is `-x` (Go reads one dash or two alike);
//! - after a subcommand's first argument (its file), a word that looks
//!   like a flag but is not one of the subcommand's (`decrypt f.yaml -v`,
//!   `encrypt p.yaml --config other.yaml`: sops's subcommands do not read
//!   `--config`, `--verbose`, `--version` or `--indent`) is ignored with a
//!   warning, as sops ignores it (a flag the subcommand reads is read
//!   wherever it stands).
//!
//! Everything after a lone `--` is left as it is.

use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// The legacy form's mode flags (see [`crate::legacy`]): booleans clap does
/// not define, `--set` a value.
const MODES: [(&str, char); 3] = [("decrypt", 'd'), ("encrypt", 'e'), ("rotate", 'r')];

/// The top-level flags sops's subcommands do not define (so they do not
/// read them after the file): `--config`, `--verbose` and the version
/// ones, which sops reads before the subcommand's name only.
const ROOT_ONLY: [&str; 6] = [
    "version",
    "config",
    "verbose",
    "disable-version-check",
    "check-for-updates",
    "indent",
];

/// What a flag is, as far as its spelling goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// On when given (`--flag`), or `--flag=BOOL`.
    Bool,
    /// Takes the next argument (or `=value`).
    Value,
    /// Takes a value after `=` only (`--enable-local-keyservice[=BOOL]`),
    /// or is an action (help, version).
    Other,
}

fn kind(arg: &Arg) -> Kind {
    match arg.get_action() {
        _ if arg.is_require_equals_set() => Kind::Other,
        ArgAction::SetTrue => Kind::Bool,
        a if a.takes_values() => Kind::Value,
        _ => Kind::Other,
    }
}

/// Whether `arg` is the flag `name`: a long name (or alias) of two or more
/// letters, or one letter (a short name or alias).
pub(crate) fn is_named(arg: &Arg, name: &str) -> bool {
    if arg.is_positional() {
        return false;
    }
    let mut letters = name.chars();
    match (letters.next(), letters.next()) {
        (Some(letter), None) => {
            arg.get_short() == Some(letter)
                || arg
                    .get_all_short_aliases()
                    .is_some_and(|v| v.contains(&letter))
        }
        _ => {
            arg.get_long() == Some(name) || arg.get_all_aliases().is_some_and(|v| v.contains(&name))
        }
    }
}

/// A flag found by name: its kind and its long name (if it has one).
struct Found {
    kind: Kind,
    long: Option<String>,
}

/// The commands whose flags are in scope: the root (its global flags) and
/// the subcommand named so far; before any subcommand, every subcommand's
/// (sops's top-level command has them all).
struct Scope<'a> {
    root: &'a Command,
    current: Option<&'a Command>,
    /// Only the subcommand's own flags (after an `exec-*` command).
    own: bool,
}

impl<'a> Scope<'a> {
    fn commands(&self) -> Box<dyn Iterator<Item = &'a Command> + 'a> {
        let root = self.root;
        match self.current {
            Some(c) => Box::new([root, c].into_iter()),
            None => Box::new(std::iter::once(root).chain(root.get_subcommands())),
        }
    }

    /// Whether `arg` of command `cmd` is in scope: after a subcommand's
    /// file, the top-level flags sops's subcommands do not define are not.
    fn admits(&self, cmd: &Command, arg: &Arg) -> bool {
        !(self.own
            && std::ptr::eq(cmd, self.root)
            && arg.get_long().is_some_and(|l| ROOT_ONLY.contains(&l)))
    }

    fn long(&self, name: &str) -> Option<Found> {
        if self.current.is_none() {
            if MODES.iter().any(|(long, _)| *long == name) {
                return Some(Found {
                    kind: Kind::Bool,
                    long: Some(name.to_string()),
                });
            }
            if name == "set" {
                return Some(Found {
                    kind: Kind::Value,
                    long: Some(name.to_string()),
                });
            }
        }
        if name == "help" {
            return Some(Found {
                kind: Kind::Other,
                long: Some(name.to_string()),
            });
        }
        self.lookup(name)
    }

    /// The flag in scope named `name` (see [`is_named`]).
    fn lookup(&self, name: &str) -> Option<Found> {
        self.commands().find_map(|c| {
            c.get_arguments()
                .find(|a| self.admits(c, a) && is_named(a, name))
                .map(|a| Found {
                    kind: kind(a),
                    long: a.get_long().map(str::to_string),
                })
        })
    }

    fn short(&self, letter: char) -> Option<Found> {
        if self.current.is_none() {
            if let Some((long, _)) = MODES.iter().find(|(_, s)| *s == letter) {
                return Some(Found {
                    kind: Kind::Bool,
                    long: Some(long.to_string()),
                });
            }
        }
        if letter == 'h' && self.current.is_some() {
            return Some(Found {
                kind: Kind::Other,
                long: Some("help".to_string()),
            });
        }
        self.lookup(letter.encode_utf8(&mut [0; 4]))
    }

    /// The flag `text` spells (`--name`, `-name`, `-x`, each perhaps with
    /// `=value`), and its value if given after `=`.
    fn flag<'t>(&self, text: &'t str) -> Option<(Found, Option<&'t str>)> {
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        if let Some(long) = name.strip_prefix("--") {
            let mut letters = long.chars();
            return match (letters.next(), letters.next()) {
                // Go's `--d`: the one-letter flag.
                (Some(letter), None) => self.short(letter).map(|f| (f, inline)),
                _ => self.long(long).map(|f| (f, inline)),
            };
        }
        let name = name.strip_prefix('-')?;
        let mut letters = name.chars();
        match (letters.next(), letters.next()) {
            (Some(letter), None) => self.short(letter).map(|f| (f, inline)),
            (Some(_), Some(_)) => self.long(name).map(|f| (f, inline)),
            _ => None,
        }
    }
}

/// The spelling clap reads for flag `found` given as `text` (`inline`: its
/// value after `=`, kept): `--name` for Go's `-name`; a one-letter flag or
/// a `--name` as it is.
fn respelled(found: &Found, text: &str, inline: Option<&str>) -> OsString {
    let name = text.split_once('=').map_or(text, |(n, _)| n);
    // Go's `--d` is `-d`.
    let owned;
    let name = match name.strip_prefix("--") {
        Some(letter) if letter.chars().count() == 1 => {
            owned = format!("-{letter}");
            owned.as_str()
        }
        _ => name,
    };
    let single_dash_long = !name.starts_with("--") && name.chars().count() > 2;
    match (&found.long, inline) {
        (Some(long), Some(v)) if single_dash_long => OsString::from(format!("--{long}={v}")),
        (Some(long), None) if single_dash_long => OsString::from(format!("--{long}")),
        (_, Some(v)) => OsString::from(format!("{name}={v}")),
        (_, None) => OsString::from(name),
    }
}

/// `argv` (the program name first) in the spellings clap reads; see the
/// module's documentation.
pub fn normalize(cli: &Command, argv: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut args = argv.into_iter();
    let mut out: Vec<OsString> = args.next().into_iter().collect();
    let mut scope = Scope {
        root: cli,
        current: None,
        own: false,
    };
    // Where the flags moved from after an `exec-*` command go, and how many
    // arguments (file, command) the subcommand has had.
    let mut insert_at = None;
    let mut positionals = 0usize;
    let mut seen_positional = false;
    let mut moved: Vec<OsString> = Vec::new();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            positionals += 1;
            continue;
        };
        // After an `exec-*` command of one word (sops's form: `FILE 'cmd'
        // --flag`); once the command has a second word, every word is the
        // command's (`exec-file f kubectl apply --filename {}`).
        let trailing = insert_at.is_some() && positionals == 2;
        if insert_at.is_some() && positionals > 2 {
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        // After a subcommand's file (not an `exec-*` one's command).
        let after_file = scope.current.is_some() && insert_at.is_none() && positionals >= 1;
        scope.own = trailing || after_file;
        if text == "--" {
            // A `--` that ends an `exec-*` command line separates nothing.
            if trailing && args.len() == 0 {
                break;
            }
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        if !text.starts_with('-') || text == "-" {
            // A subcommand's name, at the first argument that is not a
            // flag (or a flag's value).
            if out.len() == 1 && text == "h" {
                out.push(OsString::from("help"));
                seen_positional = true;
                continue;
            }
            if !seen_positional || scope.current.is_some_and(|c| c.has_subcommands()) {
                let parent = scope.current.unwrap_or(cli);
                if let Some(sub) = parent.find_subcommand(text) {
                    out.push(arg);
                    scope.current = Some(sub);
                    seen_positional = true;
                    if matches!(sub.get_name(), "exec-env" | "exec-file") {
                        insert_at = Some(out.len());
                    }
                    continue;
                }
            }
            seen_positional = true;
            positionals += 1;
            out.push(arg);
            continue;
        }
        let Some((found, inline)) = scope.flag(text) else {
            // Not a flag in scope: after an `exec-*` command, one of the
            // command's arguments; after a subcommand's file, ignored as
            // sops ignores it; else clap says what is wrong.
            if trailing {
                positionals += 1;
            } else if after_file && looks_like_flag(text) {
                // A top-level flag's value goes with it (it is not a file).
                let root = Scope {
                    root: cli,
                    current: Some(cli),
                    own: false,
                };
                let value = match root.flag(text) {
                    Some((f, None)) if f.kind == Kind::Value => args.next(),
                    _ => None,
                };
                let shown = match &value {
                    Some(v) => format!("{text} {}", v.to_string_lossy()),
                    None => text.to_string(),
                };
                warnings.push(format!(
                    "{shown:?} after the file is ignored, as sops ignores it (not a flag of `{}`; sops reads flags before the first positional argument)",
                    scope.current.map_or("", |c| c.get_name())
                ));
                continue;
            }
            out.push(arg);
            continue;
        };
        let target = if trailing { &mut moved } else { &mut out };
        match (found.kind, inline) {
            (Kind::Bool, Some(v)) => match parse_bool(v) {
                Some(true) => target.push(respelled(&found, text, None)),
                Some(false) => {}
                None => target.push(arg),
            },
            (Kind::Value, None) => {
                let value = args.next();
                match value {
                    Some(v) if v.to_str().is_some_and(|s| s.starts_with('-') && s != "-") => {
                        match (&found.long, v.to_str()) {
                            (Some(long), Some(s)) => {
                                target.push(OsString::from(format!("--{long}={s}")));
                            }
                            _ => {
                                target.push(respelled(&found, text, None));
                                target.push(v);
                            }
                        }
                    }
                    Some(v) => {
                        target.push(respelled(&found, text, None));
                        target.push(v);
                    }
                    None => target.push(respelled(&found, text, None)),
                }
            }
            (_, inline) => target.push(respelled(&found, text, inline)),
        }
    }
    if let Some(at) = insert_at.filter(|_| !moved.is_empty()) {
        let tail = out.split_off(at.min(out.len()));
        out.extend(moved);
        out.extend(tail);
    }
    (out, warnings)
}

/// Whether a word is a flag's spelling (`-x`, `--name`), not a value such
/// as `-` or `-5`.
fn looks_like_flag(text: &str) -> bool {
    text.strip_prefix("--")
        .or_else(|| text.strip_prefix('-'))
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic())
}

/// `help TOPIC…` as urfave/cli reads it for sops: `h` is `help`, the
/// words after a command without subcommands are ignored, and a topic
/// that is no command is refused ("No help topic for 'X'", exit 3 in
/// sops).
pub fn help_topic(cli: &Command, mut args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let asks_help = args.get(1).is_some_and(|a| a == "help");
    let Some(topic) = args.get(2).filter(|_| asks_help) else {
        return Ok(args);
    };
    let topic = topic.to_string_lossy().into_owned();
    // `help -h`: the help of `help`, as urfave/cli shows it.
    let topic = match topic.as_str() {
        "h" | "-h" | "--help" => "help".to_owned(),
        t if t.starts_with('-') => return Ok(args),
        _ => topic,
    };
    match cli.find_subcommand(&topic) {
        // `help groups add`; a word that is none of its subcommands is
        // ignored (`help groups foo` is the help of `groups`).
        Some(sub) if sub.has_subcommands() => {
            let known = args
                .get(3)
                .and_then(|w| w.to_str())
                .is_none_or(|w| sub.find_subcommand(w).is_some());
            if known {
                return Ok(args);
            }
        }
        Some(_) => {}
        None if topic == "help" => {}
        None => return Err(format!("No help topic for '{topic}'")),
    }
    args.truncate(2);
    args.push(OsString::from(topic));
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// `line` normalized (without the program name), and the warnings.
    fn normalized(line: &[&str]) -> (Vec<String>, Vec<String>) {
        let argv = std::iter::once("sops-like")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect();
        let (out, warnings) = normalize(&crate::args::Cli::command(), argv);
        let out = out
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        (out, warnings)
    }

    fn run(line: &[&str]) -> Vec<String> {
        normalized(line).0
    }

    #[test]
    fn go_single_dash_long_flags() {
        assert_eq!(
            run(&["-verbose", "decrypt", "-extract", "[\"a\"]", "e.yaml"]),
            ["--verbose", "decrypt", "--extract", "[\"a\"]", "e.yaml"]
        );
        assert_eq!(run(&["-decrypt", "e.yaml"]), ["--decrypt", "e.yaml"]);
        assert_eq!(
            run(&["encrypt", "-in-place", "-age=age1x", "p.yaml"]),
            ["encrypt", "--in-place", "--age=age1x", "p.yaml"]
        );
        assert_eq!(
            run(&["-set", "[\"a\"] 1", "e.yaml"]),
            ["--set", "[\"a\"] 1", "e.yaml"]
        );
        // One-letter flags and unknown words are left to clap.
        assert_eq!(run(&["-d", "-i", "e.yaml"]), ["-d", "-i", "e.yaml"]);
        assert_eq!(
            run(&["decrypt", "-nosuch", "e.yaml"]),
            ["decrypt", "-nosuch", "e.yaml"]
        );
    }

    #[test]
    fn boolean_flags_with_values() {
        assert_eq!(
            run(&["decrypt", "--ignore-mac=false", "e.yaml"]),
            ["decrypt", "e.yaml"]
        );
        assert_eq!(
            run(&["encrypt", "-i=true", "--verbose=1", "p.yaml"]),
            ["encrypt", "-i", "--verbose", "p.yaml"]
        );
        assert_eq!(run(&["-d=false", "e.yaml"]), ["e.yaml"]);
        assert_eq!(run(&["-d=T", "e.yaml"]), ["-d", "e.yaml"]);
        // Not a Go boolean: clap refuses it.
        assert_eq!(
            run(&["decrypt", "--ignore-mac=yes", "e.yaml"]),
            ["decrypt", "--ignore-mac=yes", "e.yaml"]
        );
        // A value after `=` only, as clap defines it.
        assert_eq!(
            run(&["--enable-local-keyservice=false", "decrypt", "e.yaml"]),
            ["--enable-local-keyservice=false", "decrypt", "e.yaml"]
        );
    }

    #[test]
    fn values_that_start_with_a_dash() {
        assert_eq!(
            run(&["encrypt", "--encrypted-regex", "-x", "p.yaml"]),
            ["encrypt", "--encrypted-regex=-x", "p.yaml"]
        );
        assert_eq!(
            run(&["encrypt", "-a", "-i", "p.yaml"]),
            ["encrypt", "--age=-i", "p.yaml"]
        );
        assert_eq!(
            run(&["decrypt", "--output", "-", "e.yaml"]),
            ["decrypt", "--output", "-", "e.yaml"]
        );
        // A value is never a subcommand's name.
        assert_eq!(
            run(&["-d", "--output", "decrypt", "e.yaml"]),
            ["-d", "--output", "decrypt", "e.yaml"]
        );
    }

    #[test]
    fn exec_flags_after_the_command_move_before_the_file() {
        assert_eq!(
            run(&[
                "exec-env",
                "e.env",
                "./show.sh",
                "--user",
                "nobody",
                "-pristine"
            ]),
            [
                "exec-env",
                "--user",
                "nobody",
                "--pristine",
                "e.env",
                "./show.sh"
            ]
        );
        assert_eq!(
            run(&["exec-file", "e.yaml", "cat {}", "--output-type", "json"]),
            ["exec-file", "--output-type", "json", "e.yaml", "cat {}"]
        );
        // The command's own flags stay its own, and so does all after `--`.
        assert_eq!(
            run(&["exec-env", "e.env", "grep", "-v", "x"]),
            ["exec-env", "e.env", "grep", "-v", "x"]
        );
        assert_eq!(
            run(&["exec-env", "e.env", "--", "env", "--pristine"]),
            ["exec-env", "e.env", "--", "env", "--pristine"]
        );
        assert_eq!(
            run(&["exec-env", "--pristine", "e.env", "env"]),
            ["exec-env", "--pristine", "e.env", "env"]
        );
    }

    #[test]
    fn h_is_help() {
        assert_eq!(run(&["h"]), ["help"]);
        assert_eq!(run(&["h", "decrypt"]), ["help", "decrypt"]);
        // As in urfave/cli: the first word that is not a flag names the
        // command.
        // Only as the first word: `-d h` is the file `h`.
        assert_eq!(run(&["-d", "h"]), ["-d", "h"]);
        assert_eq!(run(&["decrypt", "h"]), ["decrypt", "h"]);
    }

    #[test]
    fn go_two_dash_one_letter_flags() {
        assert_eq!(run(&["--d", "e.yaml"]), ["-d", "e.yaml"]);
        assert_eq!(
            run(&["encrypt", "--a", "age1x", "--i", "p.yaml"]),
            ["encrypt", "-a", "age1x", "-i", "p.yaml"]
        );
    }

    #[test]
    fn words_after_the_file_that_are_not_the_subcommands_flags_are_ignored() {
        let (out, warnings) =
            normalized(&["encrypt", "p.yaml", "--config", "other.yaml", "-v", "-i"]);
        // `--config` with its value (not a file).
        assert_eq!(out, ["encrypt", "p.yaml", "-i"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        // Values that start with `-` are values.
        assert_eq!(
            run(&["set", "e.yaml", "[\"a\"]", "-5"]),
            ["set", "e.yaml", "[\"a\"]", "-5"]
        );
        assert_eq!(run(&["decrypt", "-"]), ["decrypt", "-"]);
        // A top-level flag's alias too (`-V`, `--version`'s).
        assert_eq!(run(&["decrypt", "e.yaml", "-V"]), ["decrypt", "e.yaml"]);
        // Before the file, clap reads (or refuses) them.
        assert_eq!(
            run(&["--config", "c.yaml", "decrypt", "--nosuch", "e.yaml"]),
            ["--config", "c.yaml", "decrypt", "--nosuch", "e.yaml"]
        );
    }

    #[test]
    fn exec_commands_take_the_key_service_flags_and_help_too() {
        assert_eq!(
            run(&[
                "exec-env",
                "e.env",
                "cmd",
                "--keyservice",
                "unix:///x",
                "--enable-local-keyservice=false"
            ]),
            [
                "exec-env",
                "--keyservice",
                "unix:///x",
                "--enable-local-keyservice=false",
                "e.env",
                "cmd"
            ]
        );
        assert_eq!(
            run(&["exec-file", "e.yaml", "cat {}", "--help"]),
            ["exec-file", "--help", "e.yaml", "cat {}"]
        );
        // sops's top-level flags are the command's own.
        assert_eq!(
            run(&["exec-env", "e.env", "grep", "-v", "--verbose"]),
            ["exec-env", "e.env", "grep", "-v", "--verbose"]
        );
        // A `--` that ends the line.
        assert_eq!(
            run(&["exec-env", "e.env", "cmd", "--"]),
            ["exec-env", "e.env", "cmd"]
        );
        // A command of several words keeps all of them, flags included.
        assert_eq!(
            run(&[
                "exec-file",
                "e.yaml",
                "kubectl",
                "apply",
                "--filename",
                "{}"
            ]),
            [
                "exec-file",
                "e.yaml",
                "kubectl",
                "apply",
                "--filename",
                "{}"
            ]
        );
        assert_eq!(
            run(&["exec-env", "e.env", "find", "/srv", "-user", "nobody"]),
            ["exec-env", "e.env", "find", "/srv", "-user", "nobody"]
        );
    }

    #[test]
    fn nested_subcommands() {
        assert_eq!(
            run(&["groups", "add", "-file", "e.yaml", "-age", "age1x"]),
            ["groups", "add", "--file", "e.yaml", "--age", "age1x"]
        );
    }
}
