//! `exec-env` and `exec-file` against the real sops 3.11: how the command
//! is run, the values the command sees, and `exec-file --output-type`.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

/// `sops` with `args` in `dir` (`None` without sops).
fn run_sops(dir: &Path, args: &[&str]) -> Option<Output> {
    Some(
        sops(dir, "age-test.txt")?
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap(),
    )
}

/// `sops-like` with `args` in `dir`, with the demo identity.
fn run_ours(dir: &Path, args: &[&str]) -> Output {
    cmd(dir, Some("age-test.txt")).args(args).output().unwrap()
}

/// Encrypt `text` as `name` in `dir` with the real sops (`false` without
/// sops).
fn sops_encrypt(dir: &Path, name: &str, enc_name: &str, text: &str) -> bool {
    std::fs::write(dir.join(name), text).unwrap();
    let Some(out) = run_sops(dir, &["encrypt", "--age", &demo_recipient(), name]) else {
        return false;
    };
    assert_ok(&out);
    std::fs::write(dir.join(enc_name), out.stdout).unwrap();
    true
}

/// Encrypt `text` as `name` in `dir` with sops-like (`extra` flags first).
fn ours_encrypt(dir: &Path, name: &str, enc_name: &str, text: &str, extra: &[&str]) {
    std::fs::write(dir.join(enc_name), encrypt_text(dir, name, text, extra)).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_one_word_command_runs_through_the_shell_as_in_sops() {
    let tmp = tempdir();
    let d = tmp.path();
    if !sops_encrypt(d, "p.yaml", "e.yaml", "A: 1\nS: hello\n") {
        return;
    }
    for (command, want) in [
        ("set", 0),
        (":", 0),
        ("true;false", 1),
        ("echo>out.txt", 0),
        ("echo$IFS\"hi\"", 0),
        ("exit$IFS\"3\"", 3),
        ("test$IFS\"$S\"$IFS=$IFS\"hello\"", 0),
    ] {
        let theirs = run_sops(d, &["exec-env", "e.yaml", command]).unwrap();
        let ours = run_ours(d, &["exec-env", "e.yaml", command]);
        assert_eq!(theirs.status.code(), Some(want), "sops {command:?}");
        assert_eq!(
            ours.status.code(),
            Some(want),
            "{command:?}: {}",
            stderr(&ours)
        );
        // `set` lists the shell's variables (PPID differs).
        if command != "set" {
            assert_eq!(ours.stdout, theirs.stdout, "{command:?}");
        }
    }
    for command in ["cat<{}", "set"] {
        let theirs = run_sops(d, &["exec-file", "e.yaml", command]).unwrap();
        let ours = run_ours(d, &["exec-file", "e.yaml", command]);
        // sops races itself when the command never opens the FIFO
        // (`set`): its writer opens the FIFO after the command has exited
        // and sops has removed it, and dies ("open …/tmp-file: no such file
        // or directory", exit 1; seen twice in about 30 runs). Only sops's
        // side is excused.
        let raced = command == "set" && stderr(&theirs).contains("no such file or directory");
        if !raced {
            assert_eq!(
                theirs.status.code(),
                Some(0),
                "sops {command:?}: {}",
                stderr(&theirs)
            );
        }
        assert_eq!(
            ours.status.code(),
            Some(0),
            "{command:?}: {}",
            stderr(&ours)
        );
    }
    let ours = run_ours(d, &["exec-file", "e.yaml", "cat<{}"]);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "A: 1\nS: hello\n");
}

#[test]
fn sops_env_values_reach_the_command_exactly_as_sops_sets_them() {
    let tmp = tempdir();
    let d = tmp.path();
    let text = "P1=abc #def\nP4='a'b'\nP5=\"a\"#x\nP6=  spaced  \nP7=\"x\\ny\"\nQ=\"a b\"\nE=\n";
    if !sops_encrypt(d, "q.env", "q.enc.env", text) {
        return;
    }
    let command = "printf '[%s]' \"$P1\" \"$P4\" \"$P5\" \"$P6\" \"$P7\" \"$Q\" \"$E\"";
    let theirs = run_sops(d, &["exec-env", "q.enc.env", command]).unwrap();
    assert_ok(&theirs);
    let ours = run_ours(d, &["exec-env", "q.enc.env", command]);
    assert_ok(&ours);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        "[abc #def]['a'b'][\"a\"#x][  spaced  ][\"x\ny\"][\"a b\"][]"
    );
    // The same as `decrypt --extract` shows.
    let extract = run_ours(d, &["decrypt", "--extract", "[\"P1\"]", "q.enc.env"]);
    assert_eq!(String::from_utf8_lossy(&extract.stdout), "abc #def");

    // The same file in AES mode written by sops-like: the same values.
    ours_encrypt(d, "q.env", "q.aes.env", text, &["--cipher", "aes256-gcm"]);
    let aes = run_ours(d, &["exec-env", "q.aes.env", command]);
    assert_eq!(aes.stdout, ours.stdout);

    // sops-like's own (XChaCha) .env files keep the dotenv meaning.
    ours_encrypt(d, "q.env", "q.x.env", text, &[]);
    let own = run_ours(d, &["exec-env", "q.x.env", command]);
    assert_ok(&own);
    assert_eq!(
        String::from_utf8_lossy(&own.stdout),
        "[abc][a][a][spaced][x\ny][a b][]"
    );
}

#[test]
fn exec_file_writes_the_output_type_sops_writes() {
    let tmp = tempdir();
    let d = tmp.path();
    // --output-type binary of a document: its `data` string.
    if !sops_encrypt(
        d,
        "d.yaml",
        "d.enc.yaml",
        "data: \"hello\\nworld\"\nother: 1\n",
    ) {
        return;
    }
    let args = [
        "exec-file",
        "--output-type",
        "binary",
        "d.enc.yaml",
        "cat {}",
    ];
    let theirs = run_sops(d, &args).unwrap();
    let ours = run_ours(d, &args);
    assert_ok(&theirs);
    assert_ok(&ours);
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stdout, b"hello\nworld");
    // No `data` key: exit 4, as sops.
    assert!(sops_encrypt(d, "n.yaml", "n.enc.yaml", "other: 1\n"));
    let args = [
        "exec-file",
        "--output-type",
        "binary",
        "n.enc.yaml",
        "cat {}",
    ];
    assert_eq!(run_sops(d, &args).unwrap().status.code(), Some(4));
    assert_eq!(run_ours(d, &args).status.code(), Some(4));

    // A binary file written as a document.
    assert!(sops_encrypt(d, "t.bin", "t.enc.bin", "just text\nline2\n"));
    for ot in ["json", "yaml"] {
        let args = ["exec-file", "--output-type", ot, "t.enc.bin", "cat {}"];
        let theirs = run_sops(d, &args).unwrap();
        let ours = run_ours(d, &args);
        assert_ok(&theirs);
        assert_ok(&ours);
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{ot}"
        );
        let decrypt = run_ours(d, &["decrypt", "--output-type", ot, "t.enc.bin"]);
        assert_eq!(ours.stdout, decrypt.stdout, "{ot}");
    }
    let args = [
        "exec-file",
        "--output-type",
        "binary",
        "t.enc.bin",
        "cat {}",
    ];
    assert_eq!(run_ours(d, &args).stdout, b"just text\nline2\n");

    // `--input-type` without `--output-type`: the file name's format, as
    // `decrypt` writes it (sops's outputStore(fileName)), not the text
    // read in the input format.
    let json = "{\"password\": \"hunter2\", \"n\": 1}";
    assert!(sops_encrypt(d, "s.json", "s.enc.json", json));
    let args = ["exec-file", "--input-type", "yaml", "s.enc.json", "cat {}"];
    let theirs = run_sops(d, &args).unwrap();
    let ours = run_ours(d, &args);
    assert_ok(&ours);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
    let decrypt = run_ours(d, &["decrypt", "--input-type", "yaml", "s.enc.json"]);
    assert_eq!(ours.stdout, decrypt.stdout);
}

#[test]
fn exec_env_of_a_yaml_stream_reads_its_first_document_as_sops() {
    let tmp = tempdir();
    let d = tmp.path();
    if !sops_encrypt(
        d,
        "md.yaml",
        "md.enc.yaml",
        "A: first\n---\nA: second\nC: 3\n",
    ) {
        return;
    }
    let args = ["exec-env", "md.enc.yaml", "echo \"A=$A C=$C\""];
    let theirs = run_sops(d, &args).unwrap();
    let ours = run_ours(d, &args);
    assert_ok(&ours);
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "A=first C=\n");
    assert!(
        stderr(&ours).contains("only the first"),
        "{}",
        stderr(&ours)
    );
    // A lone `---` at the end holds nothing: no warning.
    ours_encrypt(d, "one.yaml", "one.enc.yaml", "A: 1\n---\n", &[]);
    let ours = run_ours(d, &["exec-env", "one.enc.yaml", "echo $A"]);
    assert_ok(&ours);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "1\n");
    assert_eq!(stderr(&ours), "");
}

#[test]
fn exec_env_refuses_two_paths_that_flatten_to_one_name() {
    let tmp = tempdir();
    let d = tmp.path();
    for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
        ours_encrypt(
            d,
            "c.yaml",
            "c.enc.yaml",
            "A_B: 1\nA:\n  B: 2\n",
            &["--cipher", cipher],
        );
        let ours = run_ours(d, &["exec-env", "c.enc.yaml", "echo $A_B"]);
        assert_eq!(ours.status.code(), Some(1), "{}", stderr(&ours));
        assert!(ours.stdout.is_empty());
        let err = stderr(&ours);
        assert!(
            err.contains(r#"["A_B"]"#) && err.contains(r#"["A"]["B"]"#),
            "{err}"
        );
    }
    // Lists: `l_0` and `l: [x]`.
    ours_encrypt(d, "l.yaml", "l.enc.yaml", "l:\n  - x\nl_0: y\n", &[]);
    let ours = run_ours(d, &["exec-env", "l.enc.yaml", "true"]);
    assert_eq!(ours.status.code(), Some(1));
    assert!(stderr(&ours).contains(r#"["l"][0]"#), "{}", stderr(&ours));
    // Nested keys that do not collide are fine.
    ours_encrypt(
        d,
        "n.yaml",
        "n.enc.yaml",
        "db:\n  user: u\n  port: 5\n",
        &[],
    );
    let ours = run_ours(d, &["exec-env", "n.enc.yaml", "echo $db_user $db_port"]);
    assert_ok(&ours);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "u 5\n");
}

#[test]
fn exec_env_gives_numbers_as_decrypt_shows_them() {
    let tmp = tempdir();
    let d = tmp.path();
    let text = "F1: 1e-7\nF2: 1.0\nF4: 1234567.5\nI: 42\nB: !!float 3\n";
    let command = "echo $F1 $F2 $F4 $I $B";
    ours_encrypt(
        d,
        "ty.yaml",
        "ty.aes.yaml",
        text,
        &["--cipher", "aes256-gcm"],
    );
    let ours = run_ours(d, &["exec-env", "ty.aes.yaml", command]);
    assert_ok(&ours);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        "1e-07 1.0 1.2345675e+06 42 3.0\n"
    );
    ours_encrypt(d, "ty.yaml", "ty.x.yaml", text, &[]);
    let ours = run_ours(d, &["exec-env", "ty.x.yaml", command]);
    assert_ok(&ours);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        "1e-7 1.0 1234567.5 42 3.0\n"
    );
    ours_encrypt(
        d,
        "j.json",
        "j.enc.json",
        r#"{"a": 1, "b": 1.0, "c": 1e-7}"#,
        &[],
    );
    let ours = run_ours(d, &["exec-env", "j.enc.json", "echo $a $b $c"]);
    assert_ok(&ours);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), "1 1.0 1e-7\n");
}

#[test]
fn a_nul_in_a_value_is_named_as_such() {
    let tmp = tempdir();
    let d = tmp.path();
    ours_encrypt(d, "n.yaml", "n.enc.yaml", "S: \"a\\0b\"\n", &[]);
    let ours = run_ours(d, &["exec-env", "n.enc.yaml", "true"]);
    assert_eq!(ours.status.code(), Some(1));
    let err = stderr(&ours);
    assert!(err.contains("the value of S contains a NUL byte"), "{err}");
}

/// `exec-file --user`: the command cannot steer the cleanup, which runs as
/// the invoker, into another directory. The scratch directory stays the
/// invoker's (0711), so the command can neither rename it nor put a
/// symlink to a directory of root's in its place; it still reads its file.
#[test]
fn exec_file_user_cannot_redirect_the_cleanup() {
    if !is_root() {
        eprintln!("note: not root; skipping the --user test");
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    ours_encrypt(d, "p.yaml", "e.yaml", "a: 1\n", &[]);
    std::fs::set_permissions(d.join("e.yaml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let victim = d.join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o700)).unwrap();
    let precious = victim.join("tmp-file");
    let seen = d.join("seen");
    for no_fifo in [true, false] {
        std::fs::write(&precious, "root's data\n").unwrap();
        let evil = format!(
            "cat {{}} > {seen}; s=$(dirname {{}}); mv \"$s\" \"$s.moved\" && ln -s {victim} \"$s\"; true",
            seen = seen.display(),
            victim = victim.display()
        );
        std::fs::write(&seen, "").unwrap();
        std::fs::set_permissions(&seen, std::fs::Permissions::from_mode(0o666)).unwrap();
        let mut args = vec!["exec-file", "--user", "nobody"];
        if no_fifo {
            args.push("--no-fifo");
        }
        args.extend(["e.yaml", &evil]);
        let out = run_ours(d, &args);
        assert_ok(&out);
        assert_eq!(
            std::fs::read_to_string(&seen).unwrap(),
            "a: 1\n",
            "{no_fifo}"
        );
        assert_eq!(
            std::fs::read_to_string(&precious).unwrap(),
            "root's data\n",
            "--no-fifo {no_fifo}: the cleanup wrote through a symlink"
        );
    }
}

/// Edges where sops-like differed from sops (fuzz54): each case runs with
/// both tools, and the exit codes (and for success, the output) agree.
/// An empty list or mapping is refused by exec-env (it was dropped without
/// a word); `--background --same-process` is 8; `--filename .` or `..` is
/// refused (1); a sops JSON file under a binary-store name is read as its
/// document; `--user` by someone who is not root is 1 (it was 126 or 3).
#[test]
fn exec_edges_match_the_real_sops() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    if !sops_encrypt(d, "p.yaml", "e.yaml", "a: 1\n")
        || !sops_encrypt(d, "empty.yaml", "empty.enc.yaml", "a: 1\ne: []\nm: {}\n")
        || !sops_encrypt(
            d,
            "p.json",
            "secrets.enc",
            "{\"str\": \"hello\", \"n\": 42}",
        )
    {
        return;
    }
    for f in ["e.yaml", "secrets.enc"] {
        std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let cases: Vec<Vec<&str>> = vec![
        vec!["exec-env", "empty.enc.yaml", "echo $a"],
        vec![
            "exec-env",
            "--background",
            "--same-process",
            "e.yaml",
            "true",
        ],
        vec!["exec-file", "--filename", ".", "e.yaml", "cat {}"],
        vec![
            "exec-file",
            "--no-fifo",
            "--filename",
            "..",
            "e.yaml",
            "cat {}",
        ],
        // (a JSON number is `42.0` in sops: a documented difference)
        vec!["exec-env", "secrets.enc", "echo str=$str"],
    ];
    for args in &cases {
        let theirs = run_sops(d, args).unwrap();
        let ours = run_ours(d, args);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{args:?}: {}",
            stderr(&ours)
        );
        if theirs.status.success() {
            assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        }
    }
    // `--user` when not root: refused before anything runs, exit 1.
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.is_file() {
        return;
    }
    for args in [
        ["exec-env", "--user", "root", "e.yaml", "id -u"],
        ["exec-file", "--user", "root", "e.yaml", "cat {}"],
    ] {
        let out = std::process::Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("sops-like"))
            .args(args)
            .current_dir(d)
            .env_clear()
            .env("HOME", d)
            .env(
                "SOPS_AGE_KEY",
                std::fs::read_to_string(key("age-test.txt")).unwrap(),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("operation not permitted"),
            "{}",
            stderr(&out)
        );
    }
}

/// `exec-env` of an INI file whose keys are all in sections: the INI
/// reader's empty `DEFAULT` section is no empty mapping of the user's, so
/// the command runs with the flattened keys (a regression of the empty
/// list/mapping refusal, fuzz57).
#[test]
fn exec_env_of_a_sectioned_ini_file_runs() {
    let dir = tempdir();
    let d = dir.path();
    for extra in [&[][..], &["--cipher", "aes256-gcm"][..]] {
        ours_encrypt(d, "q.ini", "e.ini", "[db]\nuser = u\n", extra);
        let out = run_ours(d, &["exec-env", "e.ini", "echo $db_user"]);
        assert_ok(&out);
        assert_eq!(out.stdout, b"u\n", "{extra:?}");
    }
}
