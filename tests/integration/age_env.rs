//! `SOPS_AGE_KEY_CMD`: run with `SOPS_AGE_RECIPIENT` set to each age
//! recipient of the file, as sops runs it, so that a command (a password
//! manager lookup, say) can hand out the identity for that recipient.

use crate::util::*;

#[test]
fn key_cmd_is_told_which_recipient_it_is_asked_for() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let home = dir.path();
    let plain = dir.path().join("p.yaml");
    std::fs::write(&plain, "a: secret\n").unwrap();
    let wanted = demo_recipient();
    let other = recipient_of("age-test-2.txt");
    let out = cmd(home, None)
        .args([
            "encrypt",
            "--cipher",
            "aes256-gcm",
            "--age",
            &format!("{other},{wanted}"),
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = dir.path().join("e.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    // Prints the identity only when asked for its recipient; logs each ask.
    let log = dir.path().join("asked.log");
    let script = dir.path().join("key-cmd.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$SOPS_AGE_RECIPIENT\" >> '{}'\nif [ \"$SOPS_AGE_RECIPIENT\" = '{wanted}' ]; then cat '{}'; fi\n",
            log.display(),
            key("age-test.txt").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cmd(home, None)
        .env("SOPS_AGE_KEY_CMD", &script)
        .arg("decrypt")
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a: secret\n");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(asked.lines().any(|l| l == wanted), "{asked}");
    // The real sops, with the same command, decrypts the same file.
    std::fs::remove_file(&log).unwrap();
    if let Some(mut sops) = sops(home, "age-test-3.txt") {
        let out = sops
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY_CMD", &script)
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "a: secret\n");
    }
}

/// The command is split into words as sops splits it (no shell: a `$` is
/// a `$`), and it runs no more than it must: once an identity it printed
/// opens the file, it is not asked for the file's other recipients (sops
/// stops at the first key that opens too).
#[test]
fn key_cmd_runs_without_a_shell_and_stops_once_the_file_opens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let home = dir.path();
    let plain = dir.path().join("p.yaml");
    std::fs::write(&plain, "a: secret\n").unwrap();
    let recipients = [
        recipient_of("age-test-2.txt"),
        recipient_of("age-test-3.txt"),
        demo_recipient(),
    ]
    .join(",");
    let out = cmd(home, None)
        .args(["encrypt", "--cipher", "aes256-gcm", "--age", &recipients])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = dir.path().join("e.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    // A key file whose name a shell would expand.
    let odd = dir.path().join("k$x.txt");
    std::fs::copy(key("age-test-3.txt"), &odd).unwrap();
    let out = cmd(home, None)
        .env("SOPS_AGE_KEY_CMD", format!("cat {}", odd.display()))
        .arg("decrypt")
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a: secret\n");
    // Always prints the second recipient's identity, and logs each run.
    let log = dir.path().join("runs.log");
    let script = dir.path().join("key-cmd.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$SOPS_AGE_RECIPIENT\" >> '{}'\ncat '{}'\n",
            log.display(),
            key("age-test-3.txt").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cmd(home, None)
        .env("SOPS_AGE_KEY_CMD", &script)
        .arg("decrypt")
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs.lines().count(), 1, "{runs}");
}
