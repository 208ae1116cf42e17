//! sops's legacy command form, still common in scripts and docs:
//! `sops -d FILE`, `sops -e -i FILE`, `sops -r FILE`,
//! `sops --set '["a"]["b"] "value"' FILE`, and `sops FILE` (edit). It is
//! rewritten into the subcommand form before parsing; every other flag
//! keeps its name there, so it passes through as it is.

use crate::exit::{code, Failure};
use crate::goflags::is_named;
use std::collections::HashSet;
use std::ffi::OsString;

/// The subcommand a legacy mode flag stands for.
fn mode_of(flag: &str) -> Option<&'static str> {
    match flag {
        "-d" | "--decrypt" => Some("decrypt"),
        "-e" | "--encrypt" => Some("encrypt"),
        "-r" | "--rotate" => Some("rotate"),
        "--set" => Some("set"),
        _ => None,
    }
}

/// The order in which sops runs the modes given together: the output of
/// the last one is what it writes.
fn rank(mode: &str) -> usize {
    ["encrypt", "decrypt", "rotate", "set"]
        .iter()
        .position(|m| *m == mode)
        .unwrap_or(0)
}

/// The flags of every subcommand that take a value (`--age X`, `-a X`),
/// from the parser's own definition, so a flag's value is never taken
/// for the file name.
fn value_flags(cli: &clap::Command) -> HashSet<String> {
    let mut flags = HashSet::new();
    let commands = std::iter::once(cli).chain(cli.get_subcommands());
    for cmd in commands {
        for arg in cmd.get_arguments() {
            // A value after `=` only (`--enable-local-keyservice=false`)
            // never takes the next argument.
            if arg.is_positional()
                || !arg.get_action().takes_values()
                || arg.is_require_equals_set()
            {
                continue;
            }
            if let Some(long) = arg.get_long() {
                flags.insert(format!("--{long}"));
            }
            if let Some(short) = arg.get_short() {
                flags.insert(format!("-{short}"));
            }
        }
    }
    flags
}

/// A command line in the subcommand form, and what to say about it.
pub struct Rewritten {
    /// The arguments (the program name first).
    pub args: Vec<OsString>,
    /// Warnings to print: arguments sops ignores, ignored here too.
    pub warnings: Vec<String>,
    /// A command line sops refuses before it does anything: the exit code
    /// and the message. A `--set` string that does not split into a path
    /// and a value ("Invalid --set format", 7), a mode with no file ("no
    /// file specified", 100), a flag sops's top-level command does not
    /// define (1).
    pub error: Option<Failure>,
}

impl Rewritten {
    fn unchanged(args: Vec<OsString>) -> Self {
        Rewritten {
            args,
            warnings: Vec::new(),
            error: None,
        }
    }

    fn refused(failure: Failure) -> Self {
        Rewritten {
            args: Vec::new(),
            warnings: Vec::new(),
            error: Some(failure),
        }
    }
}

/// The flags of sops's subcommands that its top-level command does not
/// define: given there (the legacy form, or before a subcommand's name),
/// sops refuses the command line ("flag provided but not defined").
const NOT_TOP_LEVEL: [&str; 15] = [
    "address",
    "background",
    "filename",
    "idempotent",
    "network",
    "no-fifo",
    "omit-extensions",
    "pristine",
    "prompt",
    "recursive",
    "same-process",
    "user",
    "value-file",
    "value-stdin",
    "yes",
];

/// `name` (a long name, or one letter) as the long name `cli` gives it.
fn long_name(cli: &clap::Command, name: &str) -> Option<String> {
    if name.chars().count() > 1 {
        return Some(name.to_string());
    }
    std::iter::once(cli)
        .chain(cli.get_subcommands())
        .flat_map(|c| c.get_arguments())
        .find(|a| is_named(a, name))
        .and_then(|a| a.get_long())
        .map(str::to_string)
}

/// sops's refusal of a flag its top-level command does not define.
fn not_top_level(cli: &clap::Command, flags: &[(OsString, Option<OsString>)]) -> Option<Rewritten> {
    flags.iter().find_map(|(flag, _)| {
        let text = flag.to_string_lossy();
        let name = flag_name(&text);
        let long = long_name(cli, name)?;
        NOT_TOP_LEVEL.contains(&long.as_str()).then(|| {
            Rewritten::refused(Failure::new(
                code::GENERIC,
                format!("flag provided but not defined: -{name} (sops reads it after a subcommand's name only)"),
            ))
        })
    })
}

/// The name of flag `text` (`--name`, `--name=v`, `-x`, `-x=v`): `name` or `x`.
fn flag_name(text: &str) -> &str {
    let name = text.split_once('=').map_or(text, |(n, _)| n);
    name.strip_prefix("--")
        .or_else(|| name.strip_prefix('-'))
        .unwrap_or(name)
}

/// Whether `cmd` defines flag `name` (a long name, or one letter).
fn defines(cmd: &clap::Command, name: &str) -> bool {
    cmd.get_arguments().any(|a| is_named(a, name))
}

/// Whether only subcommands define flag `name`: not the top-level command,
/// nor `sub` (the subcommand the line is rewritten to), but another one.
fn only_elsewhere(cli: &clap::Command, sub: Option<&clap::Command>, name: &str) -> bool {
    !defines(cli, name)
        && !sub.is_some_and(|s| defines(s, name))
        && cli.get_subcommands().any(|c| defines(c, name))
}

/// `args` (the program name first) in the subcommand form of `cli` (the
/// parser's definition), as sops's top-level command reads them:
/// - its flags come before the file: every argument after the first that
///   is not a flag (or a flag's value) is ignored, with sops's warnings;
/// - it has every flag, and ignores those the mode does not use (`-i` with
///   `--set`, which always writes in place; `--age` with `-d`): a flag
///   that the subcommand does not define, and another does, is dropped;
/// - before a subcommand's name, the flags only subcommands define are
///   ignored, as sops ignores them (a subcommand reads its own), with a
///   warning.
///
/// Arguments that are not the legacy form come back unchanged.
pub fn rewrite(cli: &clap::Command, args: Vec<OsString>) -> Rewritten {
    let Some((program, rest)) = args.split_first() else {
        return Rewritten::unchanged(args);
    };
    let subcommands: HashSet<&str> = cli
        .get_subcommands()
        .map(|c| c.get_name())
        .chain(["help"])
        .collect();
    // Only needed once a flag comes before the first positional argument
    // (not in the usual `sops-like SUBCOMMAND …`).
    let mut takes_value: Option<HashSet<String>> = None;
    let mut mode: Option<&'static str> = None;
    let mut several = false;
    let mut set_value: Option<OsString> = None;
    // Each flag with the value it took from the next argument.
    let mut flags: Vec<(OsString, Option<OsString>)> = Vec::new();
    let mut file: Option<OsString> = None;
    let mut ignored: Vec<OsString> = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else {
            file = Some(arg.clone());
            ignored.extend(iter.by_ref().cloned());
            break;
        };
        if text == "--" {
            file = iter.next().cloned();
            ignored.extend(iter.by_ref().cloned());
            break;
        }
        if !text.starts_with('-') || text == "-" {
            if mode.is_none() && subcommands.contains(text) {
                if let Some(refused) = not_top_level(cli, &flags) {
                    return refused;
                }
                return before_subcommand(cli, program, flags, arg, iter.as_slice());
            }
            file = Some(arg.clone());
            ignored.extend(iter.by_ref().cloned());
            break;
        }
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (text, None),
        };
        if let Some(m) = mode_of(name) {
            // Several modes: sops runs each in the order encrypt, decrypt,
            // rotate, set, and only the last one's output is seen.
            several |= mode.is_some_and(|seen| seen != m);
            mode = Some(match mode {
                Some(seen) if rank(seen) > rank(m) => seen,
                _ => m,
            });
            if m == "set" {
                set_value = match inline {
                    Some(v) => Some(OsString::from(v)),
                    None => iter.next().cloned(),
                };
            }
            continue;
        }
        let takes_value = takes_value.get_or_insert_with(|| value_flags(cli));
        let value = if inline.is_none() && takes_value.contains(name) {
            iter.next().cloned()
        } else {
            None
        };
        flags.push((arg.clone(), value));
    }
    // `--version` and `--help` win over everything else, as in sops.
    for (words, wanted) in [
        (&["-v", "-V", "--version"][..], "--version"),
        (&["-h", "--help"][..], "--help"),
    ] {
        if flags
            .iter()
            .any(|(f, _)| f.to_str().is_some_and(|f| words.contains(&f)))
        {
            if flags.len() == 1 && file.is_none() && mode.is_none() {
                return Rewritten::unchanged(args);
            }
            return Rewritten::unchanged(vec![program.clone(), OsString::from(wanted)]);
        }
    }
    if let Some(refused) = not_top_level(cli, &flags) {
        return refused;
    }
    let Some(file) = file else {
        if mode.is_some() || !flags.is_empty() {
            return Rewritten::refused(Failure::new(
                code::NO_FILE_SPECIFIED,
                "Error: no file specified",
            ));
        }
        // Nothing at all: the parser says.
        return Rewritten::unchanged(args);
    };
    // `sops FILE`: edit.
    let command = mode.unwrap_or("edit");
    let Some(sub) = cli.find_subcommand(command) else {
        return Rewritten::unchanged(args);
    };
    let mut out = vec![program.clone(), OsString::from(command)];
    for (flag, value) in flags {
        if only_elsewhere(cli, Some(sub), flag_name(&flag.to_string_lossy())) {
            continue;
        }
        out.push(flag);
        out.extend(value);
    }
    // A file whose name starts with `-` stays a file.
    if file
        .to_str()
        .is_some_and(|f| f.starts_with('-') && f != "-")
    {
        out.push(OsString::from("--"));
    }
    out.push(file);
    let mut error = None;
    if let Some(value) = set_value {
        // `'["a"]["b"] "value"'`: the path ends at the first `] `.
        let text = value.to_string_lossy().into_owned();
        match text.split_once("] ") {
            Some((path, json)) => {
                out.push(OsString::from(format!("{path}]")));
                out.push(OsString::from(json));
            }
            None => {
                error = Some(
                    Failure::new(code::INVALID_SET_FORMAT, "Invalid --set format").hint(
                        "--set '[\"path\"][\"to\"] VALUE': the path, a space, then a JSON value",
                    ),
                )
            }
        }
    }
    let mut warnings = Vec::new();
    if !ignored.is_empty() {
        warnings.push(
            "More than one positional argument provided. Only the first one will be used!"
                .to_string(),
        );
        if let Some(flag) = ignored
            .iter()
            .rev()
            .map(|a| a.to_string_lossy())
            .find(|a| a.starts_with('-'))
        {
            warnings.push(format!(
                "Note that one of the ignored positional argument is {flag:?}, which looks like a flag. Flags must always be provided before the first positional argument!"
            ));
        }
    }
    if several {
        warnings.push(
            "More than one command (--encrypt, --decrypt, --rotate, --set) has been specified. Only the changes made by the last one will be visible. Note that this behavior is deprecated and will cause an error eventually."
                .to_string(),
        );
    }
    Rewritten {
        args: out,
        warnings,
        error,
    }
}

/// `program FLAGS… SUBCOMMAND REST…`: the flags the top-level command
/// defines are kept, the others (which only subcommands define: sops's
/// top-level command has them all, and the subcommand does not read
/// them) dropped with a warning.
fn before_subcommand(
    cli: &clap::Command,
    program: &OsString,
    flags: Vec<(OsString, Option<OsString>)>,
    subcommand: &OsString,
    rest: &[OsString],
) -> Rewritten {
    let mut out = vec![program.clone()];
    let mut warnings = Vec::new();
    for (flag, value) in flags {
        let text = flag.to_string_lossy().into_owned();
        let name = flag_name(&text);
        // (`--keyservice` and `--enable-local-keyservice` are read there,
        // though sops ignores them: they name what the user wants used.)
        if only_elsewhere(cli, None, name) {
            let sub = subcommand.to_string_lossy();
            warnings.push(format!(
                "{text} before `{sub}` is ignored, as sops ignores it: write it after `{sub}`"
            ));
            continue;
        }
        out.push(flag);
        out.extend(value);
    }
    out.push(subcommand.clone());
    out.extend(rest.iter().cloned());
    Rewritten {
        args: out,
        warnings,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn cli() -> clap::Command {
        crate::args::Cli::command()
    }

    fn run(line: &str) -> String {
        let args = std::iter::once("sops-like")
            .chain(line.split(' ').filter(|s| !s.is_empty()))
            .map(OsString::from)
            .collect();
        rewrite(&cli(), args)
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn legacy_forms_become_subcommands() {
        assert_eq!(run("-d s.yaml"), "sops-like decrypt s.yaml");
        assert_eq!(run("--decrypt s.yaml"), "sops-like decrypt s.yaml");
        assert_eq!(
            run("-d --extract [\"a\"] --output-type json s.yaml"),
            "sops-like decrypt --extract [\"a\"] --output-type json s.yaml"
        );
        assert_eq!(
            run("-e -i --age age1x s.yaml"),
            "sops-like encrypt -i --age age1x s.yaml"
        );
        assert_eq!(
            run("--config c.yaml -e -a age1x s.yaml"),
            "sops-like encrypt --config c.yaml -a age1x s.yaml"
        );
        assert_eq!(
            run("-r -i --add-age age1y s.yaml"),
            "sops-like rotate -i --add-age age1y s.yaml"
        );
        assert_eq!(run("s.yaml"), "sops-like edit s.yaml");
        assert_eq!(
            run("--input-type binary s.bin"),
            "sops-like edit --input-type binary s.bin"
        );
        // A flag's value is never the file, even when it looks like a command.
        assert_eq!(
            run("-d --output decrypt s.yaml"),
            "sops-like decrypt --output decrypt s.yaml"
        );
        assert_eq!(
            run("-d --output=x s.yaml"),
            "sops-like decrypt --output=x s.yaml"
        );
        assert_eq!(
            run("--enable-local-keyservice s.yaml"),
            "sops-like edit --enable-local-keyservice s.yaml"
        );
    }

    /// Several modes: the one sops runs last (encrypt, decrypt, rotate,
    /// set) is the one whose output is seen; the flags only the others
    /// read are dropped; a warning says so.
    #[test]
    fn several_modes_run_the_last_one_with_a_warning() {
        let cli = cli();
        // `_` stands for a space inside one word.
        let words = |line: &str| -> Vec<OsString> {
            line.split(' ')
                .map(|w| OsString::from(w.replace('_', " ")))
                .collect()
        };
        for (line, wanted) in [
            ("sops-like -d -e s.yaml", "sops-like decrypt s.yaml"),
            ("sops-like -e -d s.yaml", "sops-like decrypt s.yaml"),
            ("sops-like -r -d -i s.yaml", "sops-like rotate -i s.yaml"),
            (
                "sops-like -d --extract [\"a\"] -r s.yaml",
                "sops-like rotate s.yaml",
            ),
            (
                "sops-like --set [\"a\"]_1 -d -e s.yaml",
                "sops-like set s.yaml [\"a\"] 1",
            ),
        ] {
            let out = rewrite(&cli, words(line));
            let got: Vec<String> = out
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            assert_eq!(got.join(" "), wanted, "{line}");
            assert!(out.error.is_none(), "{line}");
            assert!(
                out.warnings
                    .iter()
                    .any(|w| w.starts_with("More than one command (--encrypt")),
                "{line}: {:?}",
                out.warnings
            );
        }
        // One mode given twice is no warning.
        assert!(rewrite(&cli, words("sops-like -d -d s.yaml"))
            .warnings
            .is_empty());
    }

    #[test]
    fn set_splits_path_and_value() {
        let args = [
            "sops-like",
            "--set",
            "[\"a\"][0] {\"k\": \"v w\"}",
            "s.yaml",
        ]
        .map(OsString::from)
        .to_vec();
        let out: Vec<String> = rewrite(&cli(), args)
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            out,
            [
                "sops-like",
                "set",
                "s.yaml",
                "[\"a\"][0]",
                "{\"k\": \"v w\"}"
            ]
        );
    }

    #[test]
    fn arguments_after_the_file_are_ignored_with_a_warning() {
        let args = |line: &str| -> Vec<OsString> {
            std::iter::once("sops-like")
                .chain(line.split(' '))
                .map(OsString::from)
                .collect()
        };
        let done = rewrite(&cli(), args("-d e.yaml -i --output o.yaml"));
        let words: Vec<_> = done.args.iter().map(|a| a.to_string_lossy()).collect();
        assert_eq!(words, ["sops-like", "decrypt", "e.yaml"]);
        assert_eq!(done.warnings.len(), 2);
        assert!(
            done.warnings[1].contains("\"--output\""),
            "{:?}",
            done.warnings
        );
        let done = rewrite(&cli(), args("a.yaml b.yaml"));
        let words: Vec<_> = done.args.iter().map(|a| a.to_string_lossy()).collect();
        assert_eq!(words, ["sops-like", "edit", "a.yaml"]);
        assert_eq!(done.warnings.len(), 1);
    }

    #[test]
    fn flags_the_mode_does_not_use_are_dropped() {
        let args: Vec<OsString> = ["sops-like", "-i", "--set", "[\"a\"] 1", "e.yaml"]
            .map(OsString::from)
            .to_vec();
        let words: Vec<_> = rewrite(&cli(), args)
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(words, ["sops-like", "set", "e.yaml", "[\"a\"]", "1"]);
        assert_eq!(run("-d --age age1x e.yaml"), "sops-like decrypt e.yaml");
        assert_eq!(run("-e --ignore-mac p.yaml"), "sops-like encrypt p.yaml");
        assert_eq!(run("-i e.yaml"), "sops-like edit e.yaml");
        // Global flags and unknown ones stay (the parser refuses the latter).
        assert_eq!(
            run("--verbose -d --nosuch e.yaml"),
            "sops-like decrypt --verbose --nosuch e.yaml"
        );
    }

    #[test]
    fn flags_before_a_subcommand_that_only_subcommands_define_are_dropped() {
        let args: Vec<OsString> = [
            "sops-like",
            "--ignore-mac",
            "--config",
            "c.yaml",
            "--age",
            "age1x",
            "decrypt",
            "e.yaml",
        ]
        .map(OsString::from)
        .to_vec();
        let done = rewrite(&cli(), args);
        let words: Vec<_> = done.args.iter().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            words,
            ["sops-like", "--config", "c.yaml", "decrypt", "e.yaml"]
        );
        assert_eq!(done.warnings.len(), 2);
        assert!(done.warnings[0].starts_with("--ignore-mac before `decrypt` is ignored"));
    }

    #[test]
    fn version_and_help_win_and_a_mode_needs_a_file() {
        assert_eq!(run("-d -v f.yaml"), "sops-like --version");
        assert_eq!(run("-e --help"), "sops-like --help");
        assert_eq!(run("-i -h"), "sops-like --help");
        for line in ["-d", "-i", "--verbose"] {
            let args: Vec<OsString> = std::iter::once("sops-like")
                .chain(line.split(' '))
                .map(OsString::from)
                .collect();
            assert_eq!(
                rewrite(&cli(), args).error.map(|e| e.code),
                Some(100),
                "{line}"
            );
        }
    }

    #[test]
    fn a_set_string_without_a_value_is_invalid() {
        for set in ["[\"a\"]", "[\"a\"]3", "x"] {
            let args: Vec<OsString> = ["sops-like", "--set", set, "e.yaml"]
                .map(OsString::from)
                .to_vec();
            assert_eq!(
                rewrite(&cli(), args).error.map(|e| e.code),
                Some(7),
                "{set}"
            );
        }
    }

    #[test]
    fn subcommand_forms_are_untouched() {
        for line in [
            "decrypt -d s.yaml",
            "encrypt -i s.yaml",
            "--verbose decrypt s.yaml",
            "--config c.yaml rotate -r dir",
            "",
            "--version",
            "-h",
            "help decrypt",
        ] {
            let expected = format!("sops-like {line}").trim_end().to_string();
            assert_eq!(run(line), expected, "{line}");
        }
    }
}
