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
//! - `h` is urfave's alias of `help`.
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
        a if a.takes_values() && !arg.is_require_equals_set() => Kind::Value,
        _ => Kind::Other,
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
            Some(c) if self.own => Box::new(std::iter::once(c)),
            Some(c) => Box::new([root, c].into_iter()),
            None => Box::new(std::iter::once(root).chain(root.get_subcommands())),
        }
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
        self.commands().find_map(|c| {
            c.get_arguments()
                .find(|a| {
                    !a.is_positional()
                        && (a.get_long() == Some(name)
                            || a.get_all_aliases().is_some_and(|v| v.contains(&name)))
                })
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
        self.commands().find_map(|c| {
            c.get_arguments()
                .find(|a| {
                    a.get_short() == Some(letter)
                        || a.get_all_short_aliases()
                            .is_some_and(|v| v.contains(&letter))
                })
                .map(|a| Found {
                    kind: kind(a),
                    long: a.get_long().map(str::to_string),
                })
        })
    }

    /// The flag `text` spells (`--name`, `-name`, `-x`, each perhaps with
    /// `=value`), and its value if given after `=`.
    fn flag<'t>(&self, text: &'t str) -> Option<(Found, Option<&'t str>)> {
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        if let Some(long) = name.strip_prefix("--") {
            return self.long(long).map(|f| (f, inline));
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
pub fn normalize(cli: &Command, argv: Vec<OsString>) -> Vec<OsString> {
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
        if text == "--" {
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        let trailing = insert_at.is_some() && positionals >= 2;
        scope.own = trailing;
        if !text.starts_with('-') || text == "-" {
            // A subcommand's name, at the first argument that is not a
            // flag (or a flag's value).
            if !seen_positional && scope.current.is_none() && text == "h" {
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
            // Not a flag in scope: clap says what is wrong, or, after an
            // `exec-*` command, it is one of the command's arguments.
            if trailing {
                positionals += 1;
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run(line: &[&str]) -> Vec<String> {
        let argv = std::iter::once("sops-like")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect();
        normalize(&crate::args::Cli::command(), argv)
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
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
        assert_eq!(run(&["-d", "h"]), ["-d", "help"]);
        assert_eq!(run(&["decrypt", "h"]), ["decrypt", "h"]);
    }

    #[test]
    fn nested_subcommands() {
        assert_eq!(
            run(&["groups", "add", "-file", "e.yaml", "-age", "age1x"]),
            ["groups", "add", "--file", "e.yaml", "--age", "age1x"]
        );
    }
}
