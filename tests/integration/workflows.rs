//! Issue 5: everyday workflows. Diffs stay minimal, temp files never
//! outlive the edit, keys rotate, recipients come and go.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const DOC: &str = "# settings\napp:\n  name: my-app\n  port: 8080\n  tags: [same, same, other]\n  list:\n    - same\n    - same\ndb:\n  password: hunter2\n";

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn encrypted(dir: &Path, name: &str, text: &str) -> PathBuf {
    let enc = encrypt_text(dir, name, text, &[]);
    let p = dir.join(format!("enc.{name}"));
    std::fs::write(&p, enc).unwrap();
    p
}

/// The keys of the changed lines, without `lastmodified` (it only changes
/// when the second changes).
fn changed_keys(a: &str, b: &str) -> Vec<String> {
    changed_lines(a, b)
        .into_iter()
        .filter(|k| !k.ends_with("lastmodified"))
        .collect()
}

/// Lines of `b` that are not in `a` at the same position (files of equal length).
fn changed_lines(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(
        a.len(),
        b.len(),
        "line count changed:\n{}\n---\n{}",
        a.join("\n"),
        b.join("\n")
    );
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(_, y)| {
            let key = y.split([':', '=']).next().unwrap_or("");
            key.trim().trim_matches('"').to_string()
        })
        .collect()
}

fn edit(dir: &Path, file: &Path, editor: &Path) -> std::process::Output {
    cmd(dir, Some("age-test.txt"))
        .env("EDITOR", editor)
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .arg("edit")
        .arg(file)
        .output()
        .unwrap()
}

fn run_dir(dir: &Path) -> PathBuf {
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    run
}

fn assert_no_temp_left(run: &Path) {
    let left: Vec<_> = std::fs::read_dir(run)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "temp files left behind: {left:?}");
}

#[test]
fn edit_changes_only_the_edited_line_and_mac() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read_to_string(&file).unwrap();
    let log = dir.path().join("modes.log");
    let ed = script(
        dir.path(),
        "ed.sh",
        &format!("stat -c '%a' \"$1\" \"$(dirname \"$1\")\" > {}\nsed -i 's/port: 8080/port: 9090/' \"$1\"", log.display()),
    );
    let out = edit(dir.path(), &file, &ed);
    assert_ok(&out);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(changed_keys(&before, &after), ["port", "mac"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "600\n700\n");
    assert_no_temp_left(&run);
    let out = decrypt_text(dir.path(), "y.yaml", &after, &[]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        DOC.replace("8080", "9090")
    );
}

#[test]
fn unchanged_edit_writes_nothing_and_says_so() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read(&file).unwrap();
    let ed = script(dir.path(), "ed.sh", "true");
    let out = edit(dir.path(), &file, &ed);
    assert_eq!(out.status.code(), Some(200));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not changed"));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_no_temp_left(&run);
}

#[test]
fn edit_from_keeps_equal_values_distinct_and_no_op_is_byte_identical() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read_to_string(&file).unwrap();
    // The same plaintext: nothing changes at all.
    let same = dir.path().join("same.yaml");
    std::fs::write(&same, DOC).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("edit")
        .arg(&file)
        .arg("--from")
        .arg(&same)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(200));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    // Change one value: equal list items keep their own (different) ciphertexts.
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, DOC.replace("hunter2", "hunter3")).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("edit")
        .arg(&file)
        .arg("--from")
        .arg(&changed)
        .output()
        .unwrap();
    assert_ok(&out);
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(changed_keys(&before, &after), ["password", "mac"]);
    let items: Vec<&str> = after
        .lines()
        .filter(|l| l.trim_start().starts_with("- ENC["))
        .collect();
    assert_eq!(items.len(), 2);
    assert_ne!(
        items[0], items[1],
        "equal values collapsed to one ciphertext"
    );
}

#[test]
fn invalid_edit_reopens_the_editor() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    let file = encrypted(dir.path(), "x.json", "{\"a\": \"secret\"}\n");
    let state = dir.path().join("state");
    let ed = script(
        dir.path(),
        "ed.sh",
        &format!(
            "if [ -e {s} ]; then printf '{{\"a\": \"fixed\"}}\\n' > \"$1\"; else touch {s}; printf '{{\"a\": ' > \"$1\"; fi",
            s = state.display()
        ),
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", &run)
        .arg("edit")
        .arg(&file)
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid"));
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"a\": \"fixed\"}\n"
    );
    assert_no_temp_left(&run);
}

/// What the encryption refuses (here a key twice in a mapping of a file
/// for sops, a value a .env line cannot hold) sends the user back to the
/// editor too, as sops does: the edit was lost (exit 2 or 4 at once). At
/// the end of the input, the edit is given up with that refusal's code.
#[test]
fn an_edit_the_encryption_refuses_reopens_the_editor() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    let cases = [
        (
            "d.yaml",
            &["--cipher", "aes256-gcm"][..],
            &[][..],
            "a: 1\na: 2\n",
            "a: fixed\n",
            2,
        ),
        (
            "e.yaml",
            &[],
            &["--output-type", "dotenv"][..],
            "a: 1\ne: []\n",
            "a: fixed\n",
            4,
        ),
    ];
    for (i, (name, enc_flags, edit_flags, bad, good, code)) in cases.into_iter().enumerate() {
        let plain = dir.path().join(name);
        std::fs::write(&plain, "a: secret\n").unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["encrypt", "-i", "--age", &demo_recipient()])
            .args(enc_flags)
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        let before = std::fs::read(&plain).unwrap();
        let state = dir.path().join(format!("state{i}"));
        let ed = script(
            dir.path(),
            &format!("ed{i}.sh"),
            &format!(
                "if [ -e {s} ]; then printf '{good}' > \"$1\"; else touch {s}; printf '{bad}' > \"$1\"; fi",
                s = state.display()
            ),
        );
        // No input: given up, nothing written.
        let out = cmd(dir.path(), Some("age-test.txt"))
            .env("EDITOR", &ed)
            .env("XDG_RUNTIME_DIR", &run)
            .arg("edit")
            .args(edit_flags)
            .arg(&plain)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{name}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Press Enter"));
        assert_eq!(std::fs::read(&plain).unwrap(), before);
        std::fs::remove_file(&state).unwrap();
        // Enter: the editor reopens, and the fixed text is saved.
        let out = cmd(dir.path(), Some("age-test.txt"))
            .env("EDITOR", &ed)
            .env("XDG_RUNTIME_DIR", &run)
            .arg("edit")
            .args(edit_flags)
            .arg(&plain)
            .write_stdin("\n")
            .output()
            .unwrap();
        assert_ok(&out);
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["decrypt", "--extract", "[\"a\"]"])
            .args(
                edit_flags
                    .iter()
                    .map(|f| f.replace("--output-type", "--input-type")),
            )
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "fixed");
        assert_no_temp_left(&run);
    }
}

#[test]
fn editor_crash_and_sigint_leave_no_temp_file_and_no_change() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read(&file).unwrap();
    let crash = script(dir.path(), "crash.sh", "echo changed > \"$1\"; exit 3");
    let out = edit(dir.path(), &file, &crash);
    assert!(!out.status.success());
    assert_no_temp_left(&run);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // Ctrl-C: the terminal sends SIGINT to the editor and to sops-like.
    let int = script(
        dir.path(),
        "int.sh",
        "echo changed > \"$1\"; kill -INT $PPID; sleep 0.3; exit 130",
    );
    let out = edit(dir.path(), &file, &int);
    assert_eq!(
        out.status.code(),
        Some(85),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_temp_left(&run);
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn rotate_changes_every_value_and_recipients() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read_to_string(&file).unwrap();
    let second = recipient_of("age-test-2.txt");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["rotate", "-i", "--add-age", &second])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let after = std::fs::read_to_string(&file).unwrap();
    let enc_before: Vec<&str> = before.lines().filter(|l| l.contains("ENC[")).collect();
    let enc_after: Vec<&str> = after.lines().filter(|l| l.contains("ENC[")).collect();
    assert_eq!(enc_before.len(), enc_after.len());
    assert!(
        enc_before.iter().zip(&enc_after).all(|(a, b)| a != b),
        "a value kept its ciphertext across rotation"
    );
    for id in ["age-test.txt", "age-test-2.txt"] {
        let out = cmd(dir.path(), Some(id))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC, "{id}");
    }
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["rotate", "-i", "--rm-age", &demo_recipient()])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
}

#[test]
fn updatekeys_adds_without_touching_values_and_removal_rotates() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let before = std::fs::read_to_string(&file).unwrap();
    let second = recipient_of("age-test-2.txt");
    std::fs::write(
        dir.path().join(".sops-like.yaml"),
        format!(
            "creation_rules:\n  - age: [{}, {second}]\n",
            demo_recipient()
        ),
    )
    .unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["updatekeys", "-y"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let after = std::fs::read_to_string(&file).unwrap();
    let values = |t: &str| {
        t.lines()
            .filter(|l| l.contains("ENC[") && !l.contains("mac:"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&before), values(&after), "updatekeys touched values");
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
    // Nothing to do: says so, changes nothing.
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["updatekeys", "-y"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    // Remove the first recipient: the data key is rotated.
    std::fs::write(
        dir.path().join(".sops-like.yaml"),
        format!("creation_rules:\n  - age: {second}\n"),
    )
    .unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["updatekeys", "-y"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let rotated = std::fs::read_to_string(&file).unwrap();
    assert!(values(&after)
        .iter()
        .zip(values(&rotated))
        .all(|(a, b)| *a != b));
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(128),
        "the removed recipient can still decrypt"
    );
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
}

/// Every flag the real sops lists in `sops <command> --help` is one of
/// sops-like's for that command (the drop-in promise; docs/format.md).
#[test]
fn every_sops_flag_is_a_sops_like_flag() {
    let dir = tempdir();
    let Some(mut probe) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    assert_ok(&probe.arg("--version").output().unwrap());
    let flags = |text: &[u8]| -> std::collections::BTreeSet<String> {
        let text = String::from_utf8_lossy(text);
        let mut names: std::collections::BTreeSet<String> = text
            .lines()
            // Option lines start with `-x, --name` or `--name`.
            .filter(|l| l.trim_start().starts_with('-'))
            .flat_map(|l| {
                l.split([' ', ',', '\t'])
                    .take_while(|t| {
                        t.is_empty() || t.starts_with('-') || t.starts_with('<') || *t == "value"
                    })
                    .filter_map(|t| t.strip_prefix("--"))
                    .map(|t| t.split(['=', '[', '<']).next().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|f| !f.is_empty())
            .collect();
        // clap writes aliases as `[alias: --net]` / `[aliases: --a, --b]`.
        let after = |marker| text.split(marker).skip(1);
        for part in after("[alias: ").chain(after("[aliases: ")) {
            let list = part.split(']').next().unwrap_or("");
            names.extend(
                list.split([',', ' '])
                    .filter_map(|t| t.strip_prefix("--"))
                    .map(str::to_owned),
            );
        }
        names
    };
    let commands: &[&[&str]] = &[
        &["encrypt"],
        &["decrypt"],
        &["edit"],
        &["exec-env"],
        &["exec-file"],
        &["filestatus"],
        &["rotate"],
        &["set"],
        &["unset"],
        &["updatekeys"],
        &["groups", "add"],
        &["groups", "delete"],
        &["keyservice"],
        &["publish"],
    ];
    let mut checked = 0;
    for command in commands {
        let theirs = sops(dir.path(), "age-test.txt")
            .unwrap()
            .args(*command)
            .arg("--help")
            .output()
            .unwrap();
        let theirs = flags(&theirs.stdout);
        assert!(!theirs.is_empty(), "{command:?}: no flags read");
        checked += theirs.len();
        let ours = cmd(dir.path(), None)
            .args(*command)
            .arg("--help")
            .output()
            .unwrap();
        assert_ok(&ours);
        let ours = flags(&ours.stdout);
        let missing: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            missing.is_empty(),
            "{command:?}: sops-like lacks {missing:?}"
        );
    }
    assert!(checked > 120, "{checked} flags read");
    // sops's own flags (global, and those of its legacy `sops -d/-e/-r
    // FILE` form): each is a global flag of sops-like, a legacy mode
    // flag, or a flag of the subcommand a legacy form becomes.
    let theirs = sops(dir.path(), "age-test.txt")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    let theirs = flags(&theirs.stdout);
    let mut ours: std::collections::BTreeSet<String> = ["decrypt", "encrypt", "rotate", "set"]
        .into_iter()
        .map(String::from)
        .collect();
    for command in [
        &[][..],
        &["decrypt"],
        &["encrypt"],
        &["rotate"],
        &["edit"],
        &["set"],
    ] {
        let out = cmd(dir.path(), None)
            .args(command)
            .arg("--help")
            .output()
            .unwrap();
        ours.extend(flags(&out.stdout));
    }
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(theirs.len() > 40, "{theirs:?}");
    assert!(missing.is_empty(), "sops-like lacks {missing:?}");
}

/// sops's global flags and variables that change nothing here are
/// accepted in both command forms: `-v`, `--disable-version-check`
/// (`SOPS_DISABLE_VERSION_CHECK=1`, as CI scripts set it),
/// `--check-for-updates`, `--indent N`.
#[test]
fn global_sops_flags_are_accepted() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    for version in ["-v", "-V", "--version"] {
        let out = cmd(dir.path(), None).arg(version).output().unwrap();
        assert_ok(&out);
        // Scripts that check `sops --version` for a 3.x find the sops
        // version it reads and writes.
        let shown = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(shown.starts_with("sops-like "), "{shown}");
        assert!(shown.contains("(sops 3.11.0 compatible)"), "{shown}");
    }
    let forms: &[&[&str]] = &[
        &["--disable-version-check", "-d"],
        &["--disable-version-check", "decrypt"],
        &["decrypt", "--disable-version-check", "--check-for-updates"],
        &["--check-for-updates", "-d"],
        &["-d", "--indent", "2"],
        &["--indent", "-1", "decrypt"],
    ];
    for form in forms {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(*form)
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8_lossy(&out.stdout), DOC, "{form:?}");
    }
    for value in ["1", "true", "0", "false"] {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .env("SOPS_DISABLE_VERSION_CHECK", value)
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8_lossy(&out.stdout), DOC, "{value}");
    }
}

/// `exec-env --background` (sops's deprecated flag): the command runs
/// with the values while sops-like has already exited 0; not with
/// `--same-process`. `exec-file --background` is refused before anything
/// runs (the plaintext file would be gone when the command reads it).
#[test]
fn background_commands() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let marker = dir.path().join("marker");
    let go = dir.path().join("go");
    // The command waits (at most 30 s) for `go`, made once sops-like has
    // exited, so that "sops-like did not wait" holds however slow the run.
    let script = format!(
        "i=0; while [ ! -e {go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
         printf '%s' \"$db_password\" > {m}.tmp && mv {m}.tmp {m}",
        go = go.display(),
        m = marker.display()
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env", "--background"])
        .arg(&file)
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(!marker.exists(), "sops-like waited for the command");
    std::fs::write(&go, "").unwrap();
    let mut waited = 0;
    while !marker.exists() && waited < 600 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "hunter2");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env", "--background", "--same-process"])
        .arg(&file)
        .arg("true")
        .output()
        .unwrap();
    // Conflicting parameters, as sops.
    assert_eq!(out.status.code(), Some(8));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--background cannot be used with --same-process"));
    let touched = dir.path().join("touched");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-file", "--background"])
        .arg(&file)
        .arg(format!("cat {{}} > {}", touched.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported by exec-file"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!touched.exists());
}

#[test]
fn exec_env_and_exec_file_see_the_values() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", DOC);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env"])
        .arg(&file)
        .args([
            "--",
            "/bin/sh",
            "-c",
            "printf '%s %s %s' \"$app_name\" \"$db_password\" \"$app_list_1\"",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "my-app hunter2 same"
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("exec-env")
        .arg(&file)
        .arg("echo $app_port")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "8080\n");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env", "--pristine"])
        .arg(&file)
        .args(["--", "/usr/bin/env"])
        .output()
        .unwrap();
    let env = String::from_utf8(out.stdout).unwrap();
    assert!(
        env.contains("db_password=hunter2") && !env.contains("HOME="),
        "{env}"
    );
    let env_file = encrypted(
        dir.path(),
        "x.env",
        "# c\nexport TOKEN=\"a b\"\nPLAIN=x # note\n",
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("exec-env")
        .arg(&env_file)
        .arg("printf '%s|%s' \"$TOKEN\" \"$PLAIN\"")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a b|x");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("exec-env")
        .arg(&file)
        .arg("exit 7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    for extra in [&[][..], &["--no-fifo"][..]] {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("exec-file")
            .args(extra)
            .arg(&file)
            .args(["--", "cat", "{}"])
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
    }
}

#[test]
fn keygen_writes_an_identity_once() {
    let home = tempdir();
    let out = cmd(home.path(), None).arg("keygen").output().unwrap();
    assert_ok(&out);
    let recipient = String::from_utf8(out.stdout).unwrap();
    assert!(recipient.starts_with("age1"));
    let keys = home.path().join(".config/sops/age/keys.txt");
    assert_eq!(
        std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&keys).unwrap();
    assert!(text.contains("AGE-SECRET-KEY-1") && text.contains(recipient.trim()));
    let out = cmd(home.path(), None).arg("keygen").output().unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&keys).unwrap(), text);
    // The new identity works through the default location.
    let plain = home.path().join("a.yaml");
    std::fs::write(&plain, "k: v\n").unwrap();
    let out = cmd(home.path(), None)
        .args(["encrypt", "-i", "--age", recipient.trim()])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = cmd(home.path(), None)
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "k: v\n");
}

#[test]
fn several_files_and_directories_report_per_file() {
    let dir = tempdir();
    let sub = dir.path().join("conf");
    std::fs::create_dir_all(sub.join("deep")).unwrap();
    std::fs::write(sub.join("a.yaml"), "a: 1\n").unwrap();
    std::fs::write(sub.join("deep/b.json"), "{\"b\": 2}\n").unwrap();
    std::fs::write(sub.join("bad.json"), "{\"b\": \n").unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "-i", "--recursive", "--age", &demo_recipient()])
        .arg(&sub)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad file must fail the run");
    assert!(
        err.contains("encrypted:")
            && err.contains("a.yaml")
            && err.contains("b.json")
            && err.contains("bad.json"),
        "{err}"
    );
    assert!(std::fs::read_to_string(sub.join("a.yaml"))
        .unwrap()
        .contains("sops:"));
    std::fs::remove_file(sub.join("bad.json")).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "-i", "-r"])
        .arg(&sub)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        std::fs::read_to_string(sub.join("a.yaml")).unwrap(),
        "a: 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(sub.join("deep/b.json")).unwrap(),
        "{\"b\": 2}\n"
    );
}

#[test]
fn output_type_dotenv_flattens_for_env_tools() {
    let dir = tempdir();
    let file = encrypted(
        dir.path(),
        "x.yaml",
        "db:\n  user: admin\n  pass: \"a b'c\"\nport: 5432\n",
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("db_user=admin\n") && text.contains("port=5432\n"),
        "{text}"
    );
    assert!(text.contains("db_pass=\"a b'c\"\n"), "{text}");
}

/// Two values that flatten to one name are refused (exit 4, as sops's
/// dumping errors), naming it, never a value, and nothing is written:
/// `a: {b: …}` and `a_b: …` would give one variable for two secrets.
#[test]
fn output_type_dotenv_refuses_names_that_collide() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "x.yaml", "a:\n  b: s3cret1\na_b: s3cret2\n");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"a_b\"") && !err.contains("s3cret"), "{err}");
}

#[test]
fn edit_creates_a_missing_file_from_the_rules() {
    let dir = tempdir();
    let run = run_dir(dir.path());
    std::fs::write(
        dir.path().join(".sops-like.yaml"),
        format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            demo_recipient()
        ),
    )
    .unwrap();
    let ed = script(dir.path(), "ed.sh", "printf 'token: t0ps3cret\\n' > \"$1\"");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", &run)
        .args(["edit", "new.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = std::fs::read_to_string(dir.path().join("new.yaml")).unwrap();
    assert!(enc.contains("token: ENC[") && !enc.contains("t0ps3cret"));
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "new.yaml"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "token: t0ps3cret\n");
    assert_no_temp_left(&run);
}

#[test]
fn set_and_unset_change_only_their_lines() {
    let dir = tempdir();
    for (name, text, set_path, value, expect, unset_path, gone) in [
        (
            "s.yaml",
            "app:\n  port: 8080  # web\n  name: x\nother: y\n",
            r#"["app"]["port"]"#,
            "9090",
            "port: 9090  # web",
            r#"["other"]"#,
            "other:",
        ),
        (
            "s.json",
            "{\n  \"app\": {\"port\": 8080, \"name\": \"x\"},\n  \"other\": \"y\"\n}\n",
            r#"["app"]["port"]"#,
            "9090",
            "\"port\": 9090",
            r#"["other"]"#,
            "\"other\"",
        ),
        (
            "s.env",
            "PORT=8080\nNAME=x\nOTHER=y\n",
            r#"["PORT"]"#,
            "\"9090\"",
            "PORT=9090",
            r#"["OTHER"]"#,
            "OTHER=",
        ),
        (
            "s.toml",
            "other = \"y\"\n[app]\nport = 8080 # web\nname = \"x\"\n",
            r#"["app"]["port"]"#,
            "9090",
            "port = 9090 # web",
            r#"["other"]"#,
            "other =",
        ),
        (
            "s.ini",
            "other = y\n[app]\nport = 8080\nname = x\n",
            r#"["app"]["port"]"#,
            "\"9090\"",
            "port = 9090",
            r#"["DEFAULT"]["other"]"#,
            "other =",
        ),
    ] {
        let file = encrypted(dir.path(), name, text);
        let before = std::fs::read_to_string(&file).unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("set")
            .arg(&file)
            .arg(set_path)
            .arg(value)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            changed_keys(&before, &after).len(),
            2,
            "{name}: only the value and the mac change\n{before}\n{after}"
        );
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        let plain = String::from_utf8(out.stdout).unwrap();
        assert!(plain.contains(expect), "{name}: {plain}");
        // --idempotent: same value, nothing written.
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["set", "--idempotent"])
            .arg(&file)
            .arg(set_path)
            .arg(value)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("unset")
            .arg(&file)
            .arg(unset_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            !String::from_utf8(out.stdout).unwrap().contains(gone),
            "{name}"
        );
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("unset")
            .arg(&file)
            .arg(unset_path)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: unsetting a missing key fails"
        );
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["unset", "--idempotent"])
            .arg(&file)
            .arg(unset_path)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    // New keys, JSON values, values from stdin; a bad value is exit 7.
    let file = encrypted(dir.path(), "n.yaml", "a: 1\n");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["set", "--value-stdin"])
        .arg(&file)
        .arg(r#"["b"]["c"]"#)
        .write_stdin("{\"d\": [1, \"two\"]}")
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--extract", r#"["b"]["c"]["d"][1]"#])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "two");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("set")
        .arg(&file)
        .arg(r#"["a"]"#)
        .arg("not json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not json"));
}

#[test]
fn onboarding_and_offboarding_by_name() {
    let dir = tempdir();
    let (alice, bob) = (demo_recipient(), recipient_of("age-test-2.txt"));
    let config = format!("# team keys\nrecipients:\n  alice: {alice}  # laptop\n\ncreation_rules:\n  - path_regex: ^secrets/\n    age: [alice]\n");
    std::fs::write(dir.path().join(".sops-like.yaml"), &config).unwrap();
    std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/a.yaml"), "token: s3cr3t-value\n").unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "-i", "secrets/a.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let before = std::fs::read_to_string(dir.path().join("secrets/a.yaml")).unwrap();

    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["recipients", "add", "bob", &bob, "--all-rules"])
        .output()
        .unwrap();
    assert_ok(&out);
    let cfg = std::fs::read_to_string(dir.path().join(".sops-like.yaml")).unwrap();
    assert!(
        cfg.starts_with("# team keys\nrecipients:\n  alice: ") && cfg.contains("# laptop"),
        "config layout kept:\n{cfg}"
    );
    assert!(cfg.contains(&format!("bob: {bob}")), "{cfg}");
    let after = std::fs::read_to_string(dir.path().join("secrets/a.yaml")).unwrap();
    let token = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("token:"))
            .map(String::from)
    };
    assert_eq!(
        token(&before),
        token(&after),
        "adding a recipient keeps the values"
    );
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .args(["decrypt", "secrets/a.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "token: s3cr3t-value\n"
    );

    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["recipients", "remove", "alice"])
        .output()
        .unwrap();
    assert_ok(&out);
    let cfg = std::fs::read_to_string(dir.path().join(".sops-like.yaml")).unwrap();
    assert!(!cfg.contains("alice"), "{cfg}");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "secrets/a.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128), "alice was removed");
    let rotated = std::fs::read_to_string(dir.path().join("secrets/a.yaml")).unwrap();
    assert_ne!(
        token(&after),
        token(&rotated),
        "removal rotates the data key"
    );
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .args(["decrypt", "secrets/a.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "token: s3cr3t-value\n"
    );
}

/// `decrypt --output-type dotenv` output is read back unchanged by
/// python-dotenv (what pydantic-settings uses).
#[test]
fn dotenv_output_reads_back_in_python_dotenv() {
    let python = root().join(".venv/bin/python");
    let has_dotenv = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import dotenv"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
    if !has_dotenv {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python-dotenv is required in CI (scripts/test.sh)"
        );
        eprintln!("note: python-dotenv not found; skipping");
        return;
    }
    let dir = tempdir();
    let doc = "db:\n  user: admin\n  pass: \"a b'c \\\"d\\\" $HOME #x\"\n  multi: \"line1\\nline2\"\nport: 5432\nflag: true\nempty: \"\"\nslash: 'x \\'\nslashes: 'a\\\\b \\n'\ndollar: 'C:\\dir\\$HOME'\n";
    let file = encrypted(dir.path(), "x.yaml", doc);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--output-type", "dotenv"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let script = "import sys, json\nfrom dotenv import dotenv_values\nprint(json.dumps(dotenv_values(stream=sys.stdin)))";
    let py = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    py.stdin.as_ref().unwrap().write_all(&out.stdout).unwrap();
    let got = py.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(v["db_user"], "admin");
    assert_eq!(
        v["db_pass"],
        "a b'c \"d\" $HOME #x",
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(v["db_multi"], "line1\nline2");
    assert_eq!(v["port"], "5432");
    assert_eq!(v["flag"], "true");
    assert_eq!(v["empty"], "");
    // A backslash is double-quoted and escaped: python-dotenv reads `\\`
    // and `\'` inside single quotes as escapes (`'x \'` does not end).
    assert_eq!(v["slash"], "x \\");
    assert_eq!(v["slashes"], "a\\\\b \\n");
    // Single quotes where python-dotenv reads them back: a `$` stays
    // away from shells and docker compose.
    assert_eq!(v["dollar"], "C:\\dir\\$HOME");
    assert!(String::from_utf8_lossy(&out.stdout).contains("dollar='C:\\dir\\$HOME'"));
}

/// Binary-store files (a name with no known extension) work with every
/// command that changes a file, as in sops: rotate, edit (bytes as they
/// are), updatekeys, filestatus.
#[test]
fn binary_files_rotate_edit_updatekeys_and_filestatus() {
    let dir = tempdir();
    let file = dir.path().join("blob.bin");
    let bytes: &[u8] = b"\x00\xffnot text\r\n\xc3(";
    std::fs::write(&file, bytes).unwrap();
    let run = |identity: &str, args: &[&str], editor: Option<&Path>| {
        let mut c = cmd(dir.path(), Some(identity));
        if let Some(e) = editor {
            c.env("EDITOR", e);
        }
        c.args(args).arg(&file).output().unwrap()
    };
    let ok = |out: std::process::Output| {
        assert_ok(&out);
        out.stdout
    };
    let status = |identity: &str| ok(run(identity, &["filestatus"], None));
    assert_eq!(status("age-test.txt"), b"{\"encrypted\":false}\n");
    // AES, so the real sops can read the results too.
    let demo = demo_recipient();
    ok(run(
        "age-test.txt",
        &["encrypt", "-i", "--cipher", "aes256-gcm", "--age", &demo],
        None,
    ));
    assert_eq!(status("age-test.txt"), b"{\"encrypted\":true}\n");
    let decrypted = |identity: &str| ok(run(identity, &["decrypt"], None));
    // rotate: a new data key, the same bytes.
    let before = std::fs::read_to_string(&file).unwrap();
    ok(run("age-test.txt", &["rotate", "-i"], None));
    let after = std::fs::read_to_string(&file).unwrap();
    assert_ne!(before, after);
    assert_eq!(decrypted("age-test.txt"), bytes);
    // edit: the editor sees the raw bytes; unchanged is exit 200.
    let unchanged = script(dir.path(), "same.sh", "exit 0\n");
    let out = run("age-test.txt", &["edit"], Some(&unchanged));
    assert_eq!(out.status.code(), Some(200));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    let append = script(dir.path(), "append.sh", "printf '\\001end' >> \"$1\"\n");
    ok(run("age-test.txt", &["edit"], Some(&append)));
    let mut edited = bytes.to_vec();
    edited.extend_from_slice(b"\x01end");
    assert_eq!(decrypted("age-test.txt"), edited);
    // updatekeys: a second recipient from the rules; its identity decrypts.
    let second = recipient_of("age-test-2.txt");
    std::fs::write(
        dir.path().join(".sops-like.yaml"),
        format!("creation_rules:\n  - age: [{demo}, {second}]\n"),
    )
    .unwrap();
    ok(run("age-test.txt", &["updatekeys", "-y"], None));
    assert_eq!(decrypted("age-test-2.txt"), edited);
    // exec-file gets the bytes; exec-env the value as `data` when it is text.
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-file", "--no-fifo"])
        .arg(&file)
        .arg("cat {}")
        .output()
        .unwrap();
    assert_eq!(ok(out), edited);
    let err = run("age-test.txt", &["exec-env"], None);
    assert!(!err.status.success(), "not text: no environment variable");
    // set: the one value, ["data"], takes the string's bytes.
    let set = |value: &str| {
        cmd(dir.path(), Some("age-test.txt"))
            .arg("set")
            .arg(&file)
            .args(["[\"data\"]", value])
            .output()
            .unwrap()
    };
    assert!(!set("1").status.success(), "not a string");
    ok(set("\"TOKEN=x\""));
    assert_eq!(decrypted("age-test.txt"), b"TOKEN=x");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("exec-env")
        .arg(&file)
        .arg("printf %s \"$data\"")
        .output()
        .unwrap();
    assert_eq!(ok(out), b"TOKEN=x");
    ok(set("\"\\u0000\\u00ff\""));
    let mut edited = b"\x00".to_vec();
    edited.extend_from_slice("\u{ff}".as_bytes());
    // edit of a missing binary file creates it from the editor's bytes
    // (the editor starts from sops's example text).
    let fresh = dir.path().join("new.bin");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .env("EDITOR", &append)
        .args(["edit", "--age", &demo])
        .arg(&fresh)
        .output()
        .unwrap();
    ok(out);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(
        ok(out),
        b"Welcome to SOPS! Edit this file as you please!\x01end"
    );
    // The real sops reads what these commands wrote.
    if let Some(mut sops) = sops(dir.path(), "age-test-2.txt") {
        let out = sops.arg("decrypt").arg(&file).output().unwrap();
        assert_eq!(
            out.stdout,
            edited,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// sops's legacy form, as scripts use it: `-e -i`, `-d`, `--set`, `-r`,
/// `-d --extract`, and a bare file name to edit.
#[test]
fn legacy_sops_command_forms() {
    let dir = tempdir();
    let file = dir.path().join("l.yaml");
    std::fs::write(&file, "a: 1\nb: x\n").unwrap();
    let run = |args: &[&str], editor: Option<&Path>| {
        let mut c = cmd(dir.path(), Some("age-test.txt"));
        if let Some(e) = editor {
            c.env("EDITOR", e);
        }
        let out = c.args(args).arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["-e", "-i", "--age", &demo_recipient()], None);
    assert!(std::fs::read_to_string(&file).unwrap().contains("ENC["));
    assert_eq!(run(&["-d"], None), "a: 1\nb: x\n");
    run(&["--set", "[\"b\"] \"new value\""], None);
    assert_eq!(run(&["--decrypt"], None), "a: 1\nb: new value\n");
    let before = std::fs::read_to_string(&file).unwrap();
    run(&["-r", "-i"], None);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), before);
    assert_eq!(run(&["-d", "--extract", "[\"b\"]"], None), "new value");
    let append = script(dir.path(), "append.sh", "echo 'c: 3' >> \"$1\"\n");
    run(&[], Some(&append));
    assert_eq!(run(&["-d"], None), "a: 1\nb: new value\nc: 3\n");
}

/// sops's key service flags are accepted (the local key service is what
/// sops-like is; remote ones are ignored with a warning, and turning the
/// local one off is refused); `exec-env --same-process` and `--user`.
#[test]
fn keyservice_flags_and_exec_options() {
    let dir = tempdir();
    let file = encrypted(dir.path(), "k.env", "A=1\nB=two\n");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = cmd(dir.path(), Some("age-test.txt"));
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    let f = file.to_str().unwrap();
    let out = run(&["decrypt", "--enable-local-keyservice", f], &[]);
    assert_eq!(out.stdout, b"A=1\nB=two\n");
    let out = run(&["--enable-local-keyservice=true", "decrypt", f], &[]);
    assert_eq!(out.stdout, b"A=1\nB=two\n");
    // The local identity opens the file: the (dead) remote key service is
    // never called.
    let out = run(&["decrypt", "--keyservice", "tcp://127.0.0.1:1", f], &[]);
    assert_eq!(out.stdout, b"A=1\nB=two\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["decrypt", f], &[("SOPS_KEYSERVICE", "tcp://127.0.0.1:1")]);
    assert!(out.status.success());
    // An address that does not parse is skipped with a warning, as in sops.
    let out = run(&["decrypt", "--keyservice", "127.0.0.1:5000", f], &[]);
    assert_eq!(out.stdout, b"A=1\nB=two\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));
    // With the local key service off and no remote one, nothing unwraps.
    let out = run(&["decrypt", "--enable-local-keyservice=false", f], &[]);
    assert_eq!(out.status.code(), Some(128));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the local key service is off"));
    let out = run(
        &[
            "exec-env",
            "--same-process",
            f,
            "printf '%s %s' \"$A\" \"$B\"",
        ],
        &[],
    );
    assert_eq!(out.stdout, b"1 two");
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let out = run(
        &["exec-env", "--user", me.trim(), f, "printf %s \"$B\""],
        &[],
    );
    assert_eq!(
        out.stdout,
        b"two",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["exec-env", "--user", "no-such-user-x", f, "true"], &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
    // Huawei Cloud KMS flags exist as in sops, and say this build has no client.
    let plain = dir.path().join("h.yaml");
    std::fs::write(&plain, "a: 1\n").unwrap();
    let out = run(
        &[
            "encrypt",
            "--hckms",
            "tr-west-1:abc",
            plain.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hckms keys are not supported"));
    // The legacy form takes a bare `--enable-local-keyservice` as a flag.
    let out = run(&["-d", "--enable-local-keyservice", f], &[]);
    assert_eq!(out.stdout, b"A=1\nB=two\n");
}

/// `completion SHELL` prints a script the shell accepts.
#[test]
fn completion_scripts() {
    let dir = tempdir();
    let out = cmd(dir.path(), None)
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("sops-like") && script.contains("decrypt"));
    let path = dir.path().join("c.bash");
    std::fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&check);
    let out = cmd(dir.path(), None)
        .args(["completion", "zsh"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("#compdef sops-like"));
    let out = cmd(dir.path(), None)
        .args(["completion", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn changed_keys_ignores_lastmodified_in_every_format() {
    for (before, after) in [
        ("  lastmodified: \"1\"\n", "  lastmodified: \"2\"\n"),
        ("\"lastmodified\": \"1\",\n", "\"lastmodified\": \"2\",\n"),
        ("sops_lastmodified=1\n", "sops_lastmodified=2\n"),
        ("lastmodified = \"1\"\n", "lastmodified = \"2\"\n"),
    ] {
        assert!(changed_keys(before, after).is_empty(), "{before}");
        assert_eq!(
            changed_keys(
                &before.replace("lastmodified", "mac"),
                &after.replace("lastmodified", "mac")
            )
            .len(),
            1
        );
    }
}

/// `set`, `unset` and `edit` with `--output-type` write the file in that
/// format, as sops does (same data key and recipients: it still decrypts
/// with the same identity); `--shamir-secret-sharing-threshold` is
/// accepted and keeps the file's own key groups, as in sops.
#[test]
fn output_type_converts_the_changed_file() {
    let dir = tempdir();
    let run_in = |args: &[&str], editor: Option<&Path>| {
        let mut c = cmd(dir.path(), Some("age-test.txt"));
        if let Some(e) = editor {
            c.env("EDITOR", e)
                .env("XDG_RUNTIME_DIR", run_dir(dir.path()));
        }
        c.args(args).output().unwrap()
    };
    let decrypt_as = |file: &Path, ty: &str| {
        let out = run_in(
            // The output is the name's format unless told (as in sops).
            &[
                "decrypt",
                "--input-type",
                ty,
                "--output-type",
                ty,
                file.to_str().unwrap(),
            ],
            None,
        );
        assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let file = encrypted(dir.path(), "o.yaml", "a: 1\nb: two\n");
    let f = file.to_str().unwrap();
    let out = run_in(
        &[
            "set",
            "--output-type",
            "json",
            "--shamir-secret-sharing-threshold",
            "2",
            f,
            r#"["a"]"#,
            "5",
        ],
        None,
    );
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with('{') && !text.contains("shamir_threshold"),
        "{text}"
    );
    let plain = decrypt_as(&file, "json");
    let json: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(json, serde_json::json!({"a": 5, "b": "two"}));

    let out = run_in(
        &[
            "unset",
            "--input-type",
            "json",
            "--output-type",
            "dotenv",
            f,
            r#"["a"]"#,
        ],
        None,
    );
    assert_ok(&out);
    assert_eq!(decrypt_as(&file, "dotenv"), "b=two\n");

    let editor = script(dir.path(), "add.sh", "printf 'b=two\\nc=3\\n' > \"$1\"");
    let out = run_in(
        &["edit", "--input-type", "dotenv", "--output-type", "yaml", f],
        Some(&editor),
    );
    assert_ok(&out);
    assert_eq!(decrypt_as(&file, "yaml"), "b: two\nc: \"3\"\n");

    // An unknown output type is refused before anything changes.
    let before = std::fs::read(&file).unwrap();
    let out = run_in(
        &["set", "--output-type", "xml", f, r#"["b"]"#, r#""x""#],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// `set`/`unset` through a YAML alias, or at an anchor aliases repeat:
/// sops reads aliases as copies and changes the one path; in place, the
/// change would reach every alias (or leave one dangling), so sops-like
/// refuses it and writes nothing (before: `set` changed the aliases too,
/// or failed with a parse error of an intermediate text; fuzzer round
/// 38). Paths elsewhere, and a key whose value is an alias, are set.
#[test]
fn set_and_unset_refuse_what_yaml_aliases_would_repeat() {
    let dir = tempdir();
    let text = "base: &b\n  t: 30\nsvc:\n  <<: *b\n  v: 1\nref: *b\ne: &m v\nf: *m\nother: 1\n";
    let enc = encrypt_text(dir.path(), "p.yaml", text, &[]);
    let file = dir.path().join("s.yaml");
    for (args, code, why) in [
        (
            &["set", "s.yaml", r#"["ref"]["t"]"#, "99"][..],
            7,
            "goes through the YAML alias at [\"ref\"]",
        ),
        (
            &["set", "s.yaml", r#"["svc"]["<<"]["t"]"#, "99"],
            7,
            "alias at [\"svc\"][\"<<\"]",
        ),
        (
            &["set", "s.yaml", r#"["base"]["t"]"#, "99"],
            7,
            "the value at [\"base\"] is or holds a YAML anchor",
        ),
        (
            &["set", "s.yaml", r#"["e"]"#, r#"["l1"]"#],
            7,
            "the value at [\"e\"] is or holds a YAML anchor",
        ),
        (
            &["unset", "s.yaml", r#"["e"]"#],
            1,
            "the value at [\"e\"] is or holds a YAML anchor",
        ),
        (
            &["unset", "s.yaml", r#"["ref"]["t"]"#],
            1,
            "goes through the YAML alias",
        ),
    ] {
        std::fs::write(&file, &enc).unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), enc, "{args:?}");
    }
    std::fs::write(&file, &enc).unwrap();
    for args in [
        &["set", "s.yaml", r#"["other"]"#, "2"][..],
        &["set", "s.yaml", r#"["f"]"#, r#""w""#],
        &["unset", "s.yaml", r#"["ref"]"#],
    ] {
        assert_ok(
            &cmd(dir.path(), Some("age-test.txt"))
                .args(args)
                .output()
                .unwrap(),
        );
    }
    assert_eq!(
        decrypted(dir.path(), "s.yaml"),
        "base: &b\n  t: 30\nsvc:\n  <<: *b\n  v: 1\ne: &m v\nf: w\nother: 2\n"
    );
}

/// `sops-like decrypt NAME` in `dir`, which must succeed: its output.
fn decrypted(dir: &Path, name: &str) -> String {
    let out = cmd(dir, Some("age-test.txt"))
        .args(["decrypt", name])
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// `--extract` of a mapping with a merge key writes it as sops does,
/// `!!merge <<:`, so that it still merges (before: the string key `"<<"`):
/// through an alias, and as sops writes a merged mapping out, as a copy
/// (`!!merge <<:` and the mapping, session 24). A `<<` whose value cannot
/// be merged is the string `"<<"`.
#[test]
fn extract_keeps_merge_keys_merging() {
    let dir = tempdir();
    let text = "base: &b\n  t: 30\nsvc:\n  <<: *b\n  v: 1\nm:\n  <<: [*b]\n\
                sopsw:\n  !!merge <<:\n    t: 30\n  v: 1\nflow: {<<: {t: 30}}\n\
                list:\n  <<: [{t: 30}, *b]\nscalar:\n  \"<<\": 1\n";
    let enc = encrypt_text(dir.path(), "p.yaml", text, &[]);
    for (path, want) in [
        (r#"["svc"]"#, "!!merge <<:\n    t: 30\nv: 1\n"),
        (r#"["m"]"#, "!!merge <<:\n    - t: 30\n"),
        (r#"["sopsw"]"#, "!!merge <<:\n    t: 30\nv: 1\n"),
        (r#"["flow"]"#, "!!merge <<:\n    t: 30\n"),
        (r#"["list"]"#, "!!merge <<:\n    - t: 30\n    - t: 30\n"),
        (r#"["scalar"]"#, "\"<<\": 1\n"),
    ] {
        let out = decrypt_text(dir.path(), "s.yaml", &enc, &["--extract", path]);
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{path}");
    }
    // A JSON key `<<` holding an object becomes a YAML merge key, as sops
    // writes it.
    let json = encrypt_text(dir.path(), "p.json", r#"{"a": {"<<": {"t": 1}}}"#, &[]);
    let out = decrypt_text(dir.path(), "s.json", &json, &["--output-type", "yaml"]);
    assert_ok(&out);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a:\n    !!merge <<:\n        t: 1\n"
    );
}

/// More shapes around YAML anchors (fuzzer round 39): a comment after the
/// anchor, an anchor inside the value replaced, both refused; a value set
/// on an empty anchored node goes after the anchor (before, the anchor's
/// text ended up in the value: `name: newv &a1`), a mapping set on an
/// anchored empty list item starts on the next line, so the anchor stays
/// the mapping's.
#[test]
fn set_next_to_yaml_anchors() {
    let dir = tempdir();
    let file = dir.path().join("s.yaml");
    for (text, path, value) in [
        ("a: &a # c\n  x: 1\nb: *a\n", r#"["a"]["x"]"#, "2"),
        ("h:\n  s: &a x\nk: *a\n", r#"["h"]"#, "1"),
        ("h: [&a x]\nk: *a\n", r#"["h"]"#, "1"),
    ] {
        let enc = encrypt_text(dir.path(), "p.yaml", text, &[]);
        std::fs::write(&file, &enc).unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["set", "s.yaml", path, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{text:?}: {err}");
        assert!(err.contains("is or holds a YAML anchor"), "{text:?}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), enc);
    }
    for cipher in ["xchacha20-poly1305", "aes256-gcm"] {
        for (text, path, value, want) in [
            (
                "name: &a1\n",
                r#"["name"]"#,
                r#""newv""#,
                "name: &a1 newv\n",
            ),
            (
                "name: &a1 # c\nx: 1\n",
                r#"["name"]"#,
                r#""newv""#,
                "name: &a1 newv # c\nx: 1\n",
            ),
            (
                "l:\n  - &a1\n  - x\n",
                r#"["l"][0]"#,
                r#"{"k": "v"}"#,
                "l:\n  - &a1\n    k: v\n  - x\n",
            ),
        ] {
            let enc = encrypt_text(dir.path(), "p.yaml", text, &["--cipher", cipher]);
            std::fs::write(&file, &enc).unwrap();
            let out = cmd(dir.path(), Some("age-test.txt"))
                .args(["set", "s.yaml", path, value])
                .output()
                .unwrap();
            assert_ok(&out);
            assert_eq!(decrypted(dir.path(), "s.yaml"), want, "{cipher} {text:?}");
        }
        // `unset` of a key with an anchor on the key removes the anchor
        // too (before: a parse error of the text left, exit 2).
        for (text, path, want) in [
            (
                "k1: &a1 v
&k2 k3: false
z: 1
",
                r#"["k3"]"#,
                "k1: &a1 v
z: 1
",
            ),
            (
                "m: {a: 1, &k2 k3: false, z: 1}
",
                r#"["m"]["k3"]"#,
                "m: {a: 1, z: 1}
",
            ),
        ] {
            let enc = encrypt_text(dir.path(), "p.yaml", text, &["--cipher", cipher]);
            std::fs::write(&file, &enc).unwrap();
            let out = cmd(dir.path(), Some("age-test.txt"))
                .args(["unset", "s.yaml", path])
                .output()
                .unwrap();
            assert_ok(&out);
            assert_eq!(decrypted(dir.path(), "s.yaml"), want, "{cipher} {text:?}");
        }
    }
}
