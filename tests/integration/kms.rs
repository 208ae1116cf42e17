//! Issue 6 through the binary: files encrypted for a Vault transit key
//! (a real OpenBao dev server on 127.0.0.1, started and stopped here)
//! decrypt with sops-like and with the real sops; mixed age + Vault files
//! still open with age when the server is down.

use crate::util::*;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Bao {
    child: Child,
    pub(crate) url: String,
    bin: PathBuf,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bao_bin() -> Option<PathBuf> {
    let p = root().join(".venv/bin/bao");
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("bao is required in CI (scripts/kms-servers.sh install)");
    }
    eprintln!("note: bao not found; skipping (run scripts/test.sh)");
    None
}

/// Starts `make(port)` on a free port and waits (60 s at most) until it
/// listens. A port probed free can be taken by a concurrent test's server
/// before this one binds it: the loser exits, and the port answers for the
/// other server. So a server that exits before it listens, or within
/// 300 ms after, is retried on another port, five times at most.
fn spawn_on_free_port(what: &str, make: impl Fn(u16) -> Command) -> (Child, u16) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = make(port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut exited = false;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if matches!(child.try_wait(), Ok(Some(_))) {
                exited = true;
                break;
            }
            assert!(Instant::now() < deadline, "{what} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        if !exited {
            std::thread::sleep(Duration::from_millis(300));
            exited = matches!(child.try_wait(), Ok(Some(_)));
        }
        if !exited {
            return (child, port);
        }
        let _ = child.wait();
    }
    panic!("{what} did not start on five ports");
}

impl Bao {
    pub(crate) fn start() -> Option<Bao> {
        let bin = bao_bin()?;
        let (child, port) = spawn_on_free_port("bao", |port| {
            let mut c = Command::new(&bin);
            c.args([
                "server",
                "-dev",
                "-dev-root-token-id=root",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ]);
            c
        });
        let bao = Bao {
            child,
            url: format!("http://127.0.0.1:{port}"),
            bin,
        };
        bao.cli(&["secrets", "enable", "transit"]);
        bao.cli(&["write", "-f", "transit/keys/sops"]);
        Some(bao)
    }

    pub(crate) fn cli(&self, args: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new(&self.bin)
                .args(args)
                .env("BAO_ADDR", &self.url)
                .env("BAO_TOKEN", "root")
                .output()
                .unwrap();
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

    fn key_uri(&self) -> String {
        format!("{}/v1/transit/keys/sops", self.url)
    }
}

fn with_vault(mut c: assert_cmd::Command) -> assert_cmd::Command {
    c.env("VAULT_TOKEN", "root");
    c
}

#[test]
fn vault_transit_round_trip_sops_interop_and_age_fallback() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempdir();
    let plain = dir.path().join("v.yaml");
    std::fs::write(&plain, "db:\n  password: hunter2\n").unwrap();
    // Vault only, sops-compatible.
    let out = with_vault(cmd(dir.path(), None))
        .args([
            "encrypt",
            "--cipher",
            "aes256-gcm",
            "--hc-vault-transit",
            &bao.key_uri(),
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(
        enc.contains("hc_vault:") && enc.contains("vault:v1:") && enc.contains("key_name: sops"),
        "{enc}"
    );
    let enc_path = dir.path().join("v.enc.yaml");
    std::fs::write(&enc_path, &enc).unwrap();
    let out = with_vault(cmd(dir.path(), None))
        .arg("decrypt")
        .arg(&enc_path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "db:\n  password: hunter2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The real sops reads it through the same server.
    if let Some(mut s) = sops(dir.path(), "age-test.txt") {
        let out = s
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("VAULT_TOKEN", "root")
            .arg("decrypt")
            .arg(&enc_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sops: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8(out.stdout)
            .unwrap()
            .contains("password: hunter2"));
    }
    // A bad token: a clear error naming the key, no plaintext.
    let out = cmd(dir.path(), None)
        .env("VAULT_TOKEN", "wrong")
        .arg("decrypt")
        .arg(&enc_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sops"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // Mixed age + Vault, then the server goes away: age still decrypts.
    let mixed = dir.path().join("m.yaml");
    std::fs::write(&mixed, "k: v\n").unwrap();
    let out = with_vault(cmd(dir.path(), None))
        .args([
            "encrypt",
            "-i",
            "--age",
            &demo_recipient(),
            "--hc-vault-transit",
            &bao.key_uri(),
        ])
        .arg(&mixed)
        .output()
        .unwrap();
    assert_ok(&out);
    drop(bao);
    let start = Instant::now();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&mixed)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "k: v\n");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "age must not wait for the stopped server"
    );
    // Without age, the stopped server gives a clear error within the timeout.
    let start = Instant::now();
    let out = with_vault(cmd(dir.path(), None))
        .arg("decrypt")
        .arg(&enc_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    assert!(start.elapsed() < Duration::from_secs(60));
}

pub(crate) struct Moto {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    pub(crate) fn start() -> Option<Moto> {
        Moto::start_with(None)
    }

    /// Over HTTPS with the given certificate and key (PEM files).
    pub(crate) fn start_with(tls: Option<(&Path, &Path)>) -> Option<Moto> {
        let bin = root().join(".venv/bin/moto_server");
        if !bin.is_file() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("moto_server is required in CI (scripts/kms-servers.sh install)");
            }
            eprintln!("note: moto_server not found; skipping");
            return None;
        }
        let (child, port) = spawn_on_free_port("moto", |port| {
            let mut c = Command::new(&bin);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            if let Some((cert, key)) = tls {
                c.arg("-c").arg(cert).arg("-k").arg(key);
            }
            c
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let moto = Moto {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
        };
        Some(moto)
    }

    /// A new KMS key's ARN (KMS JSON API, like the AWS CLI would call it).
    pub(crate) fn create_key(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", "-k", "-X", "POST", &format!("{}/", self.url)])
            .args(["-H", "X-Amz-Target: TrentService.CreateKey", "-H", "Content-Type: application/x-amz-json-1.1"])
            .args(["-H", "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=x"])
            .args(["-d", "{}"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["KeyMetadata"]["Arn"].as_str().unwrap().to_string()
    }
}

pub(crate) fn with_aws(mut c: assert_cmd::Command, url: &str) -> assert_cmd::Command {
    c.env("AWS_ENDPOINT_URL_KMS", url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    c
}

#[test]
fn aws_kms_with_encryption_context_and_sops_interop() {
    let Some(moto) = Moto::start() else { return };
    let arn = moto.create_key();
    let dir = tempdir();
    let plain = dir.path().join("k.json");
    std::fs::write(&plain, "{\"token\": \"t0p\"}\n").unwrap();
    let out = with_aws(cmd(dir.path(), None), &moto.url)
        .args([
            "encrypt",
            "-i",
            "--cipher",
            "aes256-gcm",
            "--kms",
            &arn,
            "--encryption-context",
            "app:billing,env:prod",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = std::fs::read_to_string(&plain).unwrap();
    assert!(
        enc.contains("\"kms\"")
            && enc.contains(&arn)
            && enc.contains("\"context\"")
            && enc.contains("\"aws_profile\""),
        "{enc}"
    );
    let out = with_aws(cmd(dir.path(), None), &moto.url)
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"token\": \"t0p\"}\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(s) = sops(dir.path(), "age-test.txt") {
        let mut s = s;
        let out = s
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("AWS_ENDPOINT_URL_KMS", &moto.url)
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .arg("decrypt")
            .arg(&plain)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sops: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A changed encryption context is refused by KMS.
    let tampered = enc.replace("\"billing\"", "\"other\"");
    std::fs::write(&plain, tampered).unwrap();
    let out = with_aws(cmd(dir.path(), None), &moto.url)
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(128),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn pgp_through_gpg() {
    let Some(gpg) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("gpg"))
            .find(|p| p.is_file())
    }) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("gpg is required in CI (scripts/kms-servers.sh install)");
        }
        eprintln!("note: gpg not found; skipping");
        return;
    };
    let dir = tempdir();
    let home = dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let out = Command::new(&gpg)
        .env("GNUPGHOME", &home)
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "sops-like test <test@example.invalid>",
            "default",
            "default",
            "never",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let out = Command::new(&gpg)
        .env("GNUPGHOME", &home)
        .args(["--batch", "--with-colons", "--list-secret-keys"])
        .output()
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    let fp = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .unwrap()
        .to_string();
    let plain = dir.path().join("p.env");
    std::fs::write(&plain, "TOKEN=abc\n").unwrap();
    let out = cmd(dir.path(), None)
        .env("GNUPGHOME", &home)
        .args(["encrypt", "-i", "--pgp", &fp, "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = std::fs::read_to_string(&plain).unwrap();
    assert!(
        enc.contains("sops_pgp__list_0__map_fp=") && enc.contains("BEGIN PGP MESSAGE"),
        "{enc}"
    );
    let out = cmd(dir.path(), None)
        .env("GNUPGHOME", &home)
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "TOKEN=abc\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --decryption-order / $SOPS_DECRYPTION_ORDER: with neither key usable
    // (no age identity, an empty GnuPG home) the report lists the keys in
    // the order they were tried.
    let empty = dir.path().join("empty-gnupg");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::set_permissions(&empty, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let tried = |order: Option<&str>, env: Option<&str>| {
        let mut c = cmd(dir.path(), None);
        c.env("GNUPGHOME", &empty).arg("decrypt");
        if let Some(o) = order {
            c.args(["--decryption-order", o]);
        }
        if let Some(e) = env {
            c.env("SOPS_DECRYPTION_ORDER", e);
        }
        let out = c.arg(&plain).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(out.stdout.is_empty());
        let at = |kind: &str| err.find(&format!("  {kind} ")).unwrap_or(usize::MAX);
        (out.status.code(), at("age") < at("pgp"), err)
    };
    let (code, age_first, err) = tried(None, None);
    assert_eq!(code, Some(128), "{err}");
    assert!(age_first, "{err}");
    let (code, age_first, err) = tried(Some("pgp,age"), None);
    assert_eq!(code, Some(128), "{err}");
    assert!(!age_first, "{err}");
    let (_, age_first, err) = tried(None, Some("pgp"));
    assert!(!age_first, "{err}");
    let (code, _, err) = tried(Some("age,pgp,age"), None);
    assert_eq!(code, Some(112), "{err}");
    assert!(err.contains("duplicate decryption key type: age"), "{err}");
    // A `0x`-prefixed fingerprint (gpg and sops accept it), from the flag
    // and from a creation rule: written to `fp` as given, as sops does, and
    // both tools decrypt the file.
    let prefixed = format!("0x{fp}");
    std::fs::write(dir.path().join("x.yaml"), "a: 1\n").unwrap();
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: ^r\\.yaml$\n    pgp: {prefixed}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("r.yaml"), "a: 1\n").unwrap();
    for (file, extra) in [
        ("x.yaml", vec!["--pgp", prefixed.as_str()]),
        ("r.yaml", vec![]),
    ] {
        let out = cmd(dir.path(), None)
            .env("GNUPGHOME", &home)
            .args(["encrypt", "--cipher", "aes256-gcm"])
            .args(&extra)
            .arg(file)
            .output()
            .unwrap();
        assert_ok(&out);
        let enc = String::from_utf8(out.stdout).unwrap();
        assert!(enc.contains(&format!("fp: {prefixed}\n")), "{enc}");
        std::fs::write(dir.path().join("enc.yaml"), &enc).unwrap();
        let out = cmd(dir.path(), None)
            .env("GNUPGHOME", &home)
            .args(["decrypt", "enc.yaml"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 1\n", "{file}");
        if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
            let out = sops
                .env("GNUPGHOME", &home)
                .env_remove("SOPS_AGE_KEY_FILE")
                .current_dir(dir.path())
                .args(["decrypt", "enc.yaml"])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 1\n", "{file}");
        }
    }
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "all"])
        .output();
}

#[test]
fn gcp_kms_through_a_local_emulator() {
    let bin = root().join(".venv/bin/drongo");
    if !bin.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "drongo is required in CI (scripts/kms-servers.sh install)"
        );
        eprintln!("note: drongo not found; skipping");
        return;
    }
    let (child, port) = spawn_on_free_port("drongo", |port| {
        let mut c = Command::new(&bin);
        c.args(["server", "--host", "127.0.0.1", "--port", &port.to_string()]);
        c
    });
    let server = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for (path, body) in [
        (
            "/v1/projects/p1/locations/global/keyRings?keyRingId=ring",
            "{}",
        ),
        (
            "/v1/projects/p1/locations/global/keyRings/ring/cryptoKeys?cryptoKeyId=sops",
            r#"{"purpose":"ENCRYPT_DECRYPT"}"#,
        ),
    ] {
        let out = Command::new("curl")
            .args([
                "-s",
                "-f",
                "-X",
                "POST",
                &format!("{}{path}", server.url),
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "drongo setup {path}");
    }
    let key = "projects/p1/locations/global/keyRings/ring/cryptoKeys/sops";
    let dir = tempdir();
    let plain = dir.path().join("g.yaml");
    std::fs::write(&plain, "a: secret-value\n").unwrap();
    let url = server.url.clone();
    let gcp = |mut c: assert_cmd::Command| {
        c.env("SOPS_GCP_KMS_ENDPOINT", &url)
            .env("GOOGLE_OAUTH_ACCESS_TOKEN", "test-token");
        c
    };
    let out = gcp(cmd(dir.path(), None))
        .args(["encrypt", "-i", "--gcp-kms", key])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = std::fs::read_to_string(&plain).unwrap();
    assert!(
        enc.contains("gcp_kms:") && enc.contains(&format!("resource_id: {key}")),
        "{enc}"
    );
    let out = gcp(cmd(dir.path(), None))
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a: secret-value\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
    let out = gcp(cmd(dir.path(), None))
        .arg("decrypt")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    assert!(String::from_utf8_lossy(&out.stderr).contains(key));
}

/// An age source that cannot be used (a missing `SOPS_AGE_KEY_FILE`, a
/// malformed `SOPS_AGE_KEY`, a failing `SOPS_AGE_KEY_CMD`, a missing
/// `SOPS_AGE_SSH_PRIVATE_KEY_FILE`) does not stop decryption: the file's
/// Vault key is tried, as in sops, and the source is listed if nothing
/// works.
#[test]
fn a_broken_age_source_does_not_stop_other_keys() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempdir();
    let plain = dir.path().join("v.yaml");
    std::fs::write(&plain, "a: secret\n").unwrap();
    let out = with_vault(cmd(dir.path(), None))
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--hc-vault-transit",
            &bao.key_uri(),
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = dir.path().join("v.enc.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    for (var, value) in [
        ("SOPS_AGE_KEY_FILE", "/nonexistent/keys.txt"),
        ("SOPS_AGE_KEY", "AGE-SECRET-KEY-garbage"),
        ("SOPS_AGE_KEY_CMD", "false"),
        ("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "/nonexistent/id_ed25519"),
    ] {
        let out = with_vault(cmd(dir.path(), None))
            .env(var, value)
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "a: secret\n",
            "{var}"
        );
        // Without the Vault token nothing works, and the source is named.
        let out = cmd(dir.path(), None)
            .env(var, value)
            .env("VAULT_TOKEN", "wrong")
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(128), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(var), "{var}: {err}");
    }
}

/// A KMS key that cannot wrap the data key: exit 1 as in sops, and the
/// message is the error chain, without the SDK's Debug dump after it.
#[test]
fn unreachable_kms_is_exit_1_with_a_readable_message() {
    let dir = tempdir();
    std::fs::write(dir.path().join("f.yaml"), "a: 1\n").unwrap();
    let out = cmd(dir.path(), None)
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .args([
            "encrypt",
            "--kms",
            "arn:aws:kms:us-east-1:123456789012:key/abc",
            "f.yaml",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("could not wrap the data key"), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    for debug in ["DispatchFailure {", "ConnectorError {", "source: "] {
        assert!(!err.contains(debug), "{err}");
    }
}

/// A KMS key is its ARN, role, encryption context and profile together, as
/// sops compares them (`ARN+ROLE|k:v|profile`): `updatekeys` applies a
/// context added by the rule (and shows it as sops does), and `rotate
/// --add-kms ARN+ROLE` adds the role-bearing key next to the plain one.
#[test]
fn kms_keys_differ_by_context_and_role() {
    let Some(moto) = Moto::start() else { return };
    let arn = moto.create_key();
    let dir = tempdir();
    let aws = |c: assert_cmd::Command| {
        let mut c = with_aws(c, &moto.url);
        c.env("AWS_ENDPOINT_URL_STS", &moto.url);
        c
    };
    std::fs::write(dir.path().join("p.yaml"), "a: 1\nb: secret\n").unwrap();
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!("creation_rules:\n  - kms: {arn}\n"),
    )
    .unwrap();
    let out = aws(cmd(dir.path(), None))
        .args(["encrypt", "--cipher", "aes256-gcm"])
        .args(["--filename-override", "f.yaml", "p.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let f = dir.path().join("f.yaml");
    std::fs::write(&f, &out.stdout).unwrap();
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!("creation_rules:\n  - key_groups:\n    - kms:\n      - arn: {arn}\n        context: {{x: y}}\n"),
    )
    .unwrap();
    let out = aws(cmd(dir.path(), None))
        .args(["updatekeys", "-y", "f.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(&format!("+++ {arn}|x:y\n")) && shown.contains(&format!("--- {arn}\n")),
        "{shown}"
    );
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("context:\n            x: \"y\"\n"), "{text}");
    assert_eq!(text.matches("arn: arn:aws:kms").count(), 1, "{text}");
    // Now up to date.
    let out = aws(cmd(dir.path(), None))
        .args(["updatekeys", "-y", "f.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
    // The same ARN with a role is another key.
    let out = aws(cmd(dir.path(), None))
        .args(["rotate", "-i", "--add-kms"])
        .arg(format!("{arn}+arn:aws:iam::123456789012:role/r"))
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.matches("arn: arn:aws:kms").count(), 2, "{text}");
    assert!(
        text.contains("role: arn:aws:iam::123456789012:role/r"),
        "{text}"
    );
    let out = aws(cmd(dir.path(), None))
        .arg("decrypt")
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, b"a: 1\nb: secret\n");
    if let Some(s) = sops(dir.path(), "age-test.txt") {
        let out = aws(s).arg("decrypt").arg(&f).output().unwrap();
        assert_ok(&out);
        assert_eq!(out.stdout, b"a: 1\nb: secret\n");
    }
}

/// A key with a role: AssumeRole goes to the STS endpoint
/// (`AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`), never to the KMS one
/// (`AWS_ENDPOINT_URL_KMS`), as in sops.
#[test]
fn assume_role_uses_the_sts_endpoint_not_the_kms_one() {
    let Some(moto) = Moto::start() else { return };
    let arn = moto.create_key();
    let dir = tempdir();
    let f = dir.path().join("r.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let key = format!("{arn}+arn:aws:iam::123456789012:role/r");
    let run = |c: assert_cmd::Command, sts: Option<&str>, args: &[&str]| {
        let mut c = with_aws(c, &moto.url);
        // The shared endpoint is dead: only a service-specific one works.
        c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
        if let Some(sts) = sts {
            c.env("AWS_ENDPOINT_URL_STS", sts);
        }
        c.args(args).arg(&f).output().unwrap()
    };
    let out = run(
        cmd(dir.path(), None),
        Some(&moto.url),
        &["encrypt", "-i", "--cipher", "aes256-gcm", "--kms", &key],
    );
    assert_ok(&out);
    assert_ok(&run(cmd(dir.path(), None), Some(&moto.url), &["decrypt"]));
    // Without AWS_ENDPOINT_URL_STS, STS is AWS_ENDPOINT_URL (dead): the
    // KMS endpoint is not used for it.
    let out = run(cmd(dir.path(), None), None, &["decrypt"]);
    assert_eq!(
        out.status.code(),
        Some(128),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(s) = sops(dir.path(), "age-test.txt") {
        assert_ok(&run(s, Some(&moto.url), &["decrypt"]));
        let s = sops(dir.path(), "age-test.txt").unwrap();
        assert_eq!(run(s, None, &["decrypt"]).status.code(), Some(128));
    }
}

/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the configured endpoint
/// URLs off, as the AWS SDKs define it: the call does not go to moto.
#[test]
fn ignore_configured_endpoint_urls_is_honoured() {
    let Some(moto) = Moto::start() else { return };
    let arn = moto.create_key();
    let dir = tempdir();
    let f = dir.path().join("f.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let out = with_aws(cmd(dir.path(), None), &moto.url)
        .args(["encrypt", "-i", "--cipher", "aes256-gcm", "--kms", &arn])
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    // The key moves to a region whose regional endpoint no machine can
    // reach (an isolated partition: its name does not resolve), so the
    // ignored endpoint is all there is to reach and no request leaves
    // this machine whatever its network.
    let text = std::fs::read_to_string(&f).unwrap();
    let moved = text.replace("arn:aws:kms:us-east-1:", "arn:aws-iso:kms:us-iso-east-1:");
    assert_ne!(moved, text);
    std::fs::write(&f, moved).unwrap();
    let out = with_aws(cmd(dir.path(), None), &moto.url)
        .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
        .arg("decrypt")
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains("kms.us-iso-east-1"), "{err}");
    assert!(!err.contains(&moto.url), "{err}");
}

/// A key's `aws_profile` is used even when AWS_ACCESS_KEY_ID is set (as the
/// Go SDK does for an explicit profile), and a profile that does not exist
/// is an error rather than "no profile".
#[test]
fn aws_profile_wins_over_env_credentials_and_must_exist() {
    let Some(moto) = Moto::start() else { return };
    let arn = moto.create_key();
    let dir = tempdir();
    let home = dir.path();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    let marker = home.join("marker");
    let script = home.join("credproc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho used >> '{}'\necho '{{\"Version\":1,\"AccessKeyId\":\"test\",\"SecretAccessKey\":\"test\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile p2]\nregion = us-east-1\ncredential_process = {}\n",
            script.display()
        ),
    )
    .unwrap();
    let f = home.join("f.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let out = with_aws(cmd(home, None), &moto.url)
        .args(["encrypt", "--cipher", "aes256-gcm", "--kms", &arn])
        .args(["--aws-profile", "p2"])
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(marker.exists(), "the profile's credentials were not used");
    let enc = home.join("f.enc.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    std::fs::remove_file(&marker).unwrap();
    let out = with_aws(cmd(home, None), &moto.url)
        .arg("decrypt")
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        marker.exists(),
        "decrypt did not use the file's aws_profile"
    );
    let out = with_aws(cmd(home, None), &moto.url)
        .args(["encrypt", "--cipher", "aes256-gcm", "--kms", &arn])
        .args(["--aws-profile", "nosuch"])
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed to get shared config profile, nosuch"),
        "{err}"
    );
    if let Some(s) = sops(home, "age-test.txt") {
        let out = with_aws(s, &moto.url)
            .args(["encrypt", "--kms", &arn, "--aws-profile", "nosuch"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
    }
}

/// A profile's `ca_bundle` (`~/.aws/config`) is trusted for KMS, as the Go
/// SDK trusts it for sops: moto over HTTPS behind a private CA is refused
/// without it, and opened with the default profile's bundle and with the
/// bundle of a key's `aws_profile`.
#[test]
fn a_profile_ca_bundle_is_trusted() {
    let dir = tempdir();
    let home = dir.path();
    let Some((ca, cert, key)) = crate::keys_support::test_ca(home) else {
        return;
    };
    let Some(moto) = Moto::start_with(Some((&cert, &key))) else {
        return;
    };
    let arn = moto.create_key();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    let f = home.join("f.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let encrypt = |profile: Option<&str>| {
        let mut c = with_aws(cmd(home, None), &moto.url);
        c.args(["encrypt", "--cipher", "aes256-gcm", "--kms", &arn]);
        if let Some(p) = profile {
            c.args(["--aws-profile", p]);
        }
        c.arg(&f).output().unwrap()
    };
    // No bundle: the private CA is unknown.
    let out = encrypt(None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&arn),
        "{out:?}"
    );

    std::fs::write(
        home.join(".aws/config"),
        format!("[default]\nca_bundle = {}\n", ca.display()),
    )
    .unwrap();
    // Encrypted with `profile`, the file decrypts (with its stored one).
    let round_trip = |profile: Option<&str>| {
        let out = encrypt(profile);
        assert_ok(&out);
        let enc = home.join("f.enc.yaml");
        std::fs::write(&enc, &out.stdout).unwrap();
        let out = with_aws(cmd(home, None), &moto.url)
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(out.stdout, b"a: 1\n");
    };
    round_trip(None);

    // The key's profile has the bundle; the default one has none.
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[default]\nregion = us-east-1\n[profile p]\nregion = us-east-1\n\
             aws_access_key_id = test\naws_secret_access_key = test\nca_bundle = {}\n",
            ca.display()
        ),
    )
    .unwrap();
    round_trip(Some("p"));
    // Without the profile, the default one (no bundle) is refused.
    assert_eq!(encrypt(None).status.code(), Some(1));
}

/// A Vault transit URI with a trailing `/` is the same key, as in sops: on
/// the command line, in `.sops.yaml` (where refusing it broke every
/// command reading the config) and for `--rm-hc-vault-transit`.
#[test]
fn vault_transit_uri_with_a_trailing_slash() {
    let Some(bao) = Bao::start() else { return };
    let dir = tempdir();
    let uri = format!("{}/", bao.key_uri());
    let f = dir.path().join("f.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let out = with_vault(cmd(dir.path(), None))
        .args(["encrypt", "-i", "--cipher", "aes256-gcm"])
        .args(["--age", &demo_recipient(), "--hc-vault-transit", &uri])
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("key_name: sops\n"), "{text}");
    let out = with_vault(cmd(dir.path(), Some("age-test.txt")))
        .args(["rotate", "-i", "--rm-hc-vault-transit", &uri])
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(!std::fs::read_to_string(&f).unwrap().contains("hc_vault"));
    // A rule with such a URI does not break the config for other files.
    let cfg = dir.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(
        cfg.join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: only-this\\.yaml$\n    hc_vault_transit_uri: {uri}\n  - age: {}\n",
            demo_recipient()
        ),
    )
    .unwrap();
    std::fs::write(cfg.join("p.yaml"), "a: 1\n").unwrap();
    let out = with_vault(cmd(&cfg, None))
        .args(["encrypt", "--filename-override", "x.yaml", "p.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
}
