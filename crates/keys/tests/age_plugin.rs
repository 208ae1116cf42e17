//! age plugins through a real plugin program: the fixture
//! `tests/fixtures/age-plugin` (`age-plugin-sopsliketest`, built here with
//! cargo into the test's temporary directory) speaks the age plugin
//! protocol for one fixed key. Wrapping, unwrapping, the data-key API, and
//! an identity whose program is missing.
#![cfg(feature = "age-plugins")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sops_like_keys::{decrypt_data_key, encrypt_data_key, DataKey, Identities, Recipient};

/// Builds the fixture plugin; returns the directory holding it, or `None`
/// (with a note; a failure when `CI=true`) when cargo cannot build it.
fn build_plugin() -> Option<PathBuf> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/age-plugin");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("age-plugin-fixture");
    std::fs::create_dir_all(work.join("src")).unwrap();
    for file in ["Cargo.toml", "src/main.rs"] {
        let text = std::fs::read(fixture.join(file)).unwrap();
        if std::fs::read(work.join(file)).ok().as_deref() != Some(&text[..]) {
            std::fs::write(work.join(file), text).unwrap();
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet"])
        .arg("--manifest-path")
        .arg(work.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(work.join("target"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    if !out.status.success() {
        let note = format!(
            "could not build the age plugin fixture: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{note}");
        }
        eprintln!("SKIPPED: {note}");
        return None;
    }
    Some(work.join("target/debug"))
}

/// The identity file the plugin prints for `name`, and its recipient.
fn keys(bin: &Path, name: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(bin.join("age-plugin-sopsliketest"));
    if let Some(n) = name {
        cmd.args(["--print-for", n]);
    }
    let text = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_owned();
    (text, recipient)
}

#[test]
fn plugin_recipients_and_identities_round_trip() {
    let Some(bin) = build_plugin() else { return };
    // age finds plugins on PATH. This is the only test in this binary, so
    // changing the environment races with nothing.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());

    let (identity_text, recipient_text) = keys(&bin, None);
    assert!(recipient_text.starts_with("age1sopsliketest1"));
    let recipient = Recipient::parse(&recipient_text).unwrap();
    assert_eq!(recipient.key_type(), "plugin");

    let enc = sops_like_keys::wrap(&[7; 32], &recipient).unwrap();
    assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
    assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));

    let mut ids = Identities::new();
    assert_eq!(ids.add_text("plugin keys", &identity_text).unwrap(), 1);
    assert_eq!(&ids.unwrap(&enc).unwrap()[..], &[7; 32]);

    // The data-key API, with the plugin recipient next to an X25519 one.
    let (x_identity, x_recipient) = sops_like_keys::generate_identity();
    let data_key = DataKey::generate().unwrap();
    let groups = encrypt_data_key(
        &data_key,
        &[vec![
            Recipient::parse(&x_recipient).unwrap(),
            recipient.clone(),
        ]],
        None,
    )
    .unwrap();
    match decrypt_data_key(&groups, None, &ids) {
        Ok(k) => assert!(k == data_key),
        Err(e) => panic!("{e}"),
    }
    let mut x_only = Identities::new();
    x_only.add_text("x", &x_identity).unwrap();
    assert!(decrypt_data_key(&groups, None, &x_only).is_ok());

    // An identity for a plugin whose program does not exist: skipped with
    // a note naming the program; nothing to decrypt with.
    let (missing_text, missing_recipient) = keys(&bin, Some("missing"));
    let mut none = Identities::new();
    assert_eq!(none.add_text("missing", &missing_text).unwrap(), 0);
    let shown = none.sources()[0].to_string();
    assert!(shown.contains("age-plugin-missing"), "{shown}");
    assert!(none.unwrap(&enc).is_err());
    // And wrapping to its recipient fails, naming the program.
    let err = sops_like_keys::wrap(&[1; 32], &Recipient::parse(&missing_recipient).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("age-plugin-missing"), "{err}");
}
