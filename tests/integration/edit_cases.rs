//! `edit` and its editor (fuzz59): where the editor is looked for, a new
//! file whose text the encryption refuses, and rewriting an INI file whose
//! comment marker selects as sops reads it.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// An executable script `path` with `body`.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The editor is never run from the current directory through an empty or
/// relative `PATH` entry (an untrusted checkout's `./vim` would get the
/// plaintext), as sops (Go's `execabs`) never runs it; and a file that is
/// not executable is no editor.
#[test]
fn the_editor_is_not_taken_from_the_current_directory() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("e.yaml"), encrypt_text(d, "p.yaml", "a: 1\n", &[])).unwrap();
    let planted = d.join("planted-ran");
    script(&d.join("vim"), &format!("touch {}", planted.display()));
    // A real editor, in an absolute directory after a non-executable one.
    let bin = d.join("bin");
    let skipped = d.join("skipped");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&skipped).unwrap();
    std::fs::write(skipped.join("nano"), "not a program\n").unwrap();
    script(&bin.join("nano"), "echo 'b: 2' >> \"$1\"");
    let path_of = |first: &str| format!("{first}:{}:{}", skipped.display(), bin.display());
    for (editor, path) in [(None, path_of("")), (Some("vim"), path_of("."))] {
        let mut c = cmd(d, Some("age-test.txt"));
        c.current_dir(d).env("PATH", path).args(["edit", "e.yaml"]);
        if let Some(e) = editor {
            c.env("EDITOR", e);
        }
        let out = c.output().unwrap();
        assert!(
            !planted.exists(),
            "{editor:?}: the editor in the current directory ran"
        );
        if editor.is_none() {
            // No vim in this PATH (no real editor at all, which would wait
            // for a terminal): nano, the executable one.
            assert_ok(&out);
        }
    }
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "e.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"a: 1\nb: 2\n");
}

/// `edit` of a new file: a save the encryption refuses (a key twice, for
/// sops) sends the user back to the editor, as for an existing file; the
/// fixed text is written. It ended at once, what was typed lost.
#[test]
fn a_new_file_refused_by_the_encryption_goes_back_to_the_editor() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join(".sops.yaml"),
        format!("creation_rules:\n  - age: {}\n", demo_recipient()),
    )
    .unwrap();
    let count = d.join("count");
    let ed = d.join("ed.sh");
    script(
        &ed,
        &format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}\n\
             if [ $n = 1 ]; then printf 'pw: one\\npw: two\\n' > \"$1\"; else printf 'pw: one\\n' > \"$1\"; fi",
            c = count.display()
        ),
    );
    let out = cmd(d, Some("age-test.txt"))
        .env("EDITOR", &ed)
        .args(["edit", "new.yaml"])
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "2\n");
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "new.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"pw: one\n");
}

/// An `AES256_GCM` INI file whose `encrypted_comment_regex` marker selects
/// the key after the one below it (as sops reads INI comments) is edited,
/// set and rotated (it was refused, exit 51, "encrypted, but the selector
/// leaves it in clear"), and the value stays encrypted.
#[test]
fn an_ini_file_with_a_comment_marker_can_be_rewritten() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join(".sops.yaml"),
        format!(
            "creation_rules:\n  - age: {}\n    encrypted_comment_regex: pw\n",
            demo_recipient()
        ),
    )
    .unwrap();
    std::fs::write(d.join("f.ini"), "[db]\n; pw\na = 1\nb = 2\n").unwrap();
    assert_ok(
        &cmd(d, Some("age-test.txt"))
            .args(["encrypt", "-i", "f.ini"])
            .output()
            .unwrap(),
    );
    let ed = d.join("ed.sh");
    script(&ed, "sed -i s/2/3/ \"$1\"");
    let steps: [&[&str]; 3] = [
        &["edit", "f.ini"],
        &["set", "f.ini", "[\"db\"][\"b\"]", "\"9\""],
        &["rotate", "-i", "f.ini"],
    ];
    for args in steps {
        let out = cmd(d, Some("age-test.txt"))
            .env("EDITOR", &ed)
            .args(args)
            .output()
            .unwrap();
        assert_ok(&out);
        let text = std::fs::read_to_string(d.join("f.ini")).unwrap();
        assert!(
            text.contains("a = 1\nb = ENC[AES256_GCM"),
            "{args:?}: {text}"
        );
    }
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "f.ini"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"[db]\n; pw\na = 1\nb = 9\n");
}

/// An editor that puts a symlink to another directory in place of its temp
/// directory: the cleanup does not wipe or remove that directory's file of
/// the temp file's name (security.md: the wipe never goes through a
/// symlink), as sops only removes the link.
#[test]
fn the_cleanup_does_not_follow_a_symlinked_temp_directory() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("f.yaml"), encrypt_text(d, "p.yaml", "a: 1\n", &[])).unwrap();
    let victim = d.join("victim");
    std::fs::create_dir(&victim).unwrap();
    let moved = d.join("moved-to");
    let ed = d.join("ed.sh");
    script(
        &ed,
        &format!(
            "echo 'b: 2' >> \"$1\"\ncp \"$1\" {v}/f.yaml\nt=$(dirname \"$1\")\nmv \"$t\" \"$t.moved\"\necho \"$t.moved\" > {m}\nln -s {v} \"$t\"",
            v = victim.display(),
            m = moved.display()
        ),
    );
    let out = cmd(d, Some("age-test.txt"))
        .env("EDITOR", &ed)
        .args(["edit", "f.yaml"])
        .output()
        .unwrap();
    if let Ok(m) = std::fs::read_to_string(&moved) {
        let _ = std::fs::remove_dir_all(m.trim());
    }
    assert_ok(&out);
    assert_eq!(
        std::fs::read_to_string(victim.join("f.yaml")).unwrap(),
        "a: 1\nb: 2\n",
        "the file behind the symlink was wiped"
    );
}
