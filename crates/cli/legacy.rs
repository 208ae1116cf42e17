//! sops's legacy command form, still common in scripts and docs:
//! `sops -d FILE`, `sops -e -i FILE`, `sops -r FILE`,
//! `sops --set '["a"]["b"] "value"' FILE`, and `sops FILE` (edit). It is
//! rewritten into the subcommand form before parsing; every other flag
//! keeps its name there, so it passes through as it is.

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

/// `args` (the program name first) in the subcommand form of `cli` (the
/// parser's definition). Arguments that
/// already name a subcommand, or that are not the legacy form, come back
/// unchanged.
pub fn rewrite(cli: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let Some((program, rest)) = args.split_first() else {
        return args;
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
    let mut set_value: Option<OsString> = None;
    let mut flags: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
    let mut iter = rest.iter();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else {
            files.push(arg.clone());
            continue;
        };
        if text == "--" {
            files.extend(iter.by_ref().cloned());
            break;
        }
        if !text.starts_with('-') || text == "-" {
            if files.is_empty() && mode.is_none() && subcommands.contains(text) {
                return args;
            }
            files.push(arg.clone());
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (text, None),
        };
        if let Some(m) = mode_of(name) {
            if mode.is_some_and(|seen| seen != m) {
                // Two modes: let the parser say what is wrong.
                return args;
            }
            mode = Some(m);
            if m == "set" {
                set_value = match inline {
                    Some(v) => Some(OsString::from(v)),
                    None => iter.next().cloned(),
                };
            }
            continue;
        }
        flags.push(arg.clone());
        let takes_value = takes_value.get_or_insert_with(|| value_flags(cli));
        if inline.is_none() && takes_value.contains(name) {
            flags.extend(iter.next().cloned());
        }
    }
    let command = match (mode, files.len()) {
        (Some(m), _) => m,
        // `sops FILE`: edit.
        (None, 1) => "edit",
        _ => return args,
    };
    let mut out = vec![program.clone(), OsString::from(command)];
    out.extend(flags);
    out.extend(files);
    if let Some(value) = set_value {
        // `'["a"]["b"] "value"'`: the path ends at the first `] `.
        let text = value.to_string_lossy().into_owned();
        match text.split_once("] ") {
            Some((path, json)) => {
                out.push(OsString::from(format!("{path}]")));
                out.push(OsString::from(json));
            }
            None => out.push(value),
        }
    }
    out
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
    fn subcommand_forms_are_untouched() {
        for line in [
            "decrypt -d s.yaml",
            "encrypt -i s.yaml",
            "--verbose decrypt s.yaml",
            "--config c.yaml rotate -r dir",
            "",
            "--version",
            "-h",
            "a.yaml b.yaml",
            "-d -e s.yaml",
            "help decrypt",
        ] {
            let expected = format!("sops-like {line}").trim_end().to_string();
            assert_eq!(run(line), expected, "{line}");
        }
    }
}
