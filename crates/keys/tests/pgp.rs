//! PGP through the real gpg, with a throwaway GNUPGHOME and generated keys:
//! round trips, an unknown recipient, a key we lack the secret for, mixed
//! groups, and interop with the real sops in both directions.
#![cfg(feature = "pgp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sops_like_keys::kms::{PgpConfig, PgpKey, ServiceOptions};
use sops_like_keys::{
    decrypt_data_key_with, encrypt_data_key_for, DataKey, Identities, KeyService, ServiceConfig,
    ServiceKey, Services,
};
use support::run;

/// A GNUPGHOME with generated keys; its agent is stopped on drop.
struct GnuPg {
    home: tempfile::TempDir,
    gpg: PathBuf,
}

impl GnuPg {
    fn new() -> Option<GnuPg> {
        let gpg = support::tool("gpg")?;
        // Short path: the agent socket path is limited in length.
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .unwrap();
        Some(GnuPg { home, gpg })
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.gpg);
        c.env("GNUPGHOME", self.home.path()).arg("--batch");
        c
    }

    /// Generates a key without passphrase; returns its fingerprint.
    fn generate(&self, uid: &str) -> String {
        run(self.cmd().args([
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "default",
            "default",
            "never",
        ]));
        let out = run(self
            .cmd()
            .args(["--with-colons", "--list-secret-keys", uid]));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_owned())
            .unwrap()
    }

    fn delete_secret(&self, fp: &str) {
        run(self.cmd().args(["--yes", "--delete-secret-keys", fp]));
    }

    fn services(&self) -> Services {
        services_for(self.home.path(), &self.gpg)
    }
}

impl Drop for GnuPg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

fn services_for(home: &Path, gpg: &Path) -> Services {
    Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_secs(20),
            attempts: 1,
            backoff: Duration::from_millis(10),
        },
        pgp: PgpConfig {
            gpg: Some(gpg.to_owned()),
            gnupghome: Some(home.to_owned()),
        },
        ..ServiceConfig::default()
    })
}

#[test]
fn pgp_round_trip_and_failures() {
    let Some(g) = GnuPg::new() else { return };
    let fp = g.generate("sops-like test <a@example.invalid>");
    assert_eq!(fp.len(), 40);
    let svc = g.services();
    let key = ServiceKey::Pgp(PgpKey::parse(&fp).unwrap());
    let wrapped = svc.wrap(&key, &[5; 32]).unwrap();
    assert!(
        wrapped.enc.starts_with("-----BEGIN PGP MESSAGE-----"),
        "{}",
        wrapped.enc
    );
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[5; 32]);

    // Through the data-key API.
    let data_key = DataKey::generate().unwrap();
    let groups =
        encrypt_data_key_for(&data_key, &[vec![key.clone().into()]], None, &svc, "t").unwrap();
    match decrypt_data_key_with(&groups, None, &Identities::new(), &svc) {
        Ok(k) => assert!(k == data_key),
        Err(e) => panic!("{e}"),
    }

    // An unknown fingerprint cannot be encrypted to.
    let unknown =
        ServiceKey::Pgp(PgpKey::parse("0123456789ABCDEF0123456789ABCDEF01234567").unwrap());
    let err = svc.wrap(&unknown, &[5; 32]).unwrap_err().to_string();
    assert!(
        err.starts_with("pgp key 0123456789ABCDEF0123456789ABCDEF01234567 at "),
        "{err}"
    );
    assert!(err.contains("gpg failed"), "{err}");

    // Without the secret key, decryption fails clearly.
    g.delete_secret(&fp);
    let err = svc.unwrap(&key, &wrapped.enc).unwrap_err().to_string();
    assert!(err.contains("gpg failed"), "{err}");
}

/// sops (which reads GNUPGHOME) encrypts for our key; we decrypt its `enc`,
/// re-wrap the data key with gpg ourselves, and sops decrypts that file.
#[test]
fn interop_with_real_sops() {
    let Some(sops) = support::sops() else { return };
    let Some(g) = GnuPg::new() else { return };
    let fp = g.generate("sops interop <b@example.invalid>");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("s.json");
    std::fs::write(&plain, "{\"password\": \"hunter2\"}\n").unwrap();
    let out = run(Command::new(&sops)
        .args(["encrypt", "--pgp", &fp])
        .arg(&plain)
        .env("GNUPGHOME", g.home.path()));
    let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = doc["sops"]["pgp"][0].clone();
    assert_eq!(entry["fp"], fp.as_str());
    let key = ServiceKey::Pgp(PgpKey::parse(&fp).unwrap());
    let svc = g.services();
    let data_key = svc.unwrap(&key, entry["enc"].as_str().unwrap()).unwrap();
    assert_eq!(data_key.len(), 32);

    let ours = svc.wrap(&key, &data_key).unwrap().enc;
    doc["sops"]["pgp"][0]["enc"] = serde_json::Value::String(ours);
    let enc_file = dir.path().join("e.json");
    std::fs::write(&enc_file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = run(Command::new(&sops)
        .arg("decrypt")
        .arg(&enc_file)
        .env("GNUPGHOME", g.home.path()));
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back["password"], "hunter2");
}
