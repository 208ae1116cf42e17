//! Remote key services with the real sops: sops-like as a client of
//! `sops keyservice` (over a Unix socket) and `sops-like keyservice` as the
//! server of sops and of sops-like (over TCP on 127.0.0.1), with `--prompt`.
//! The servers are started and stopped (SIGTERM) by each test.

use crate::util::*;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A key service process, stopped when dropped, and its stderr lines.
struct Server {
    child: Child,
    stderr: Option<mpsc::Receiver<String>>,
}

impl Server {
    /// The next stderr line (at most 10 s).
    fn line(&self) -> String {
        self.stderr
            .as_ref()
            .and_then(|rx| rx.recv_timeout(Duration::from_secs(10)).ok())
            .unwrap_or_default()
    }
}

/// Start `command` and wait (at most 10 s each) for a stderr line
/// containing `Listening on`; returns the server and that line.
fn start(mut command: Command) -> (Server, String) {
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let server = Server {
        child,
        stderr: Some(rx),
    };
    loop {
        let line = server.line();
        assert!(!line.is_empty(), "the key service did not start");
        if line.contains("Listening on") {
            return (server, line);
        }
    }
}

/// `sops-like keyservice` on 127.0.0.1 (a free port) with the demo
/// identity; its address `tcp://127.0.0.1:PORT`.
fn sops_like_server(home: &Path, extra: &[&str], stdin: Option<&str>) -> (Server, String) {
    let identity = key("age-test.txt");
    let env = [("SOPS_AGE_KEY_FILE", identity.to_str().unwrap())];
    sops_like_server_with(home, extra, stdin, &env)
}

/// [`sops_like_server`] with `env` (credentials) instead of the identity.
fn sops_like_server_with(
    home: &Path,
    extra: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (Server, String) {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("sops-like"));
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(home)
        .args(["keyservice", "--address", "127.0.0.1:0"])
        .args(extra);
    let answers = stdin.map(str::to_owned);
    if answers.is_some() {
        c.stdin(Stdio::piped());
    }
    let (mut server, line) = start(c);
    if let (Some(text), Some(mut pipe)) = (answers, server.child.stdin.take()) {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let address = line
        .split("Listening on ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    assert!(address.starts_with("tcp://127.0.0.1:"), "{line}");
    (server, address)
}

/// sops-like with no identity of its own and only `address` to unwrap.
fn remote_only(home: &Path, address: &str) -> assert_cmd::Command {
    let mut c = cmd(home, None);
    c.args(["--enable-local-keyservice=false", "--keyservice", address]);
    c
}

/// The real sops's `subcommand` with no identity of its own and only
/// `address` to wrap and unwrap (`None` without the real sops).
fn sops_via(home: &Path, subcommand: &str, address: &str) -> Option<assert_cmd::Command> {
    let mut c = sops(home, "age-test.txt")?;
    c.env_remove("SOPS_AGE_KEY_FILE").args([
        subcommand,
        "--enable-local-keyservice=false",
        "--keyservice",
        address,
    ]);
    Some(c)
}

/// Decrypt `file` through `address` only.
fn remote_decrypt(home: &Path, address: &str, file: &Path) -> std::process::Output {
    remote_only(home, address)
        .arg("decrypt")
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn sops_like_uses_the_real_sops_key_service() {
    let dir = tempdir();
    let Some(sops_bin) = sops_bin() else {
        return;
    };
    let socket = dir.path().join("sops.sock");
    let mut c = Command::new(sops_bin);
    c.env_clear()
        .env("HOME", dir.path())
        .env("SOPS_AGE_KEY_FILE", key("age-test.txt"))
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .args(["keyservice", "--network", "unix", "--address"])
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // sops logs nothing at its default level: wait for the socket.
    let _server = Server {
        child: c.spawn().unwrap(),
        stderr: None,
    };
    for _ in 0..500 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(socket.exists(), "sops keyservice did not start");
    let address = format!("unix://{}", socket.display());
    let doc = "db:\n  user: admin # who\n  password: hunter2\n";
    let enc = encrypt_text(dir.path(), "a.yaml", doc, &[]);
    let file = dir.path().join("a.enc.yaml");
    std::fs::write(&file, &enc).unwrap();
    // No identity here: only the key service can unwrap the data key.
    let out = cmd(dir.path(), None)
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    let out = remote_decrypt(dir.path(), &address, &file);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), doc);
    // Rotation unwraps and wraps through it; the result opens locally.
    let out = remote_only(dir.path(), &address)
        .args(["rotate", "-i"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_ne!(std::fs::read_to_string(&file).unwrap(), enc);
    let out = decrypt_text(
        dir.path(),
        "b.enc.yaml",
        &std::fs::read_to_string(&file).unwrap(),
        &[],
    );
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), doc);
}

#[test]
fn the_real_sops_uses_the_sops_like_key_service() {
    let dir = tempdir();
    if sops_bin().is_none() {
        return;
    }
    let (server, address) = sops_like_server(dir.path(), &["--verbose"], None);
    // A file sops writes, for the demo recipient, through our service.
    let plain = dir.path().join("s.yaml");
    std::fs::write(&plain, "a: 1\nb: two\n").unwrap();
    let out = sops_via(dir.path(), "encrypt", &address)
        .unwrap()
        .args(["--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    // --verbose: each request on the server's stderr, never a secret.
    let logged = server.line();
    assert!(
        logged.starts_with(&format!(
            "encrypt request using age key {}: answered",
            demo_recipient()
        )),
        "{logged}"
    );
    let enc = dir.path().join("s.enc.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    // sops, with no identity, decrypts it through our service.
    let out = sops_via(dir.path(), "decrypt", &address)
        .unwrap()
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 1\nb: two\n");
    // And so does sops-like.
    let out = remote_decrypt(dir.path(), &address, &enc);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 1\nb: two\n");
}

/// `--prompt`: a request is answered only after `y` (an unclear answer is
/// asked again); `n` rejects it and the client says so.
#[test]
fn prompted_requests_need_a_yes() {
    let dir = tempdir();
    let (_server, address) = sops_like_server(dir.path(), &["--prompt"], Some("maybe\nn\ny\n"));
    let enc = encrypt_text(dir.path(), "p.env", "A=1\n", &[]);
    let file = dir.path().join("p.enc.env");
    std::fs::write(&file, enc).unwrap();
    let out = remote_decrypt(dir.path(), &address, &file);
    assert_eq!(out.status.code(), Some(128));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Request rejected by user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = remote_decrypt(dir.path(), &address, &file);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A=1\n");
}

/// An AWS KMS key (moto on 127.0.0.1) used only through the key service:
/// the server has the credentials and the endpoint, the clients (sops-like
/// and the real sops) have neither.
#[test]
fn kms_keys_work_through_the_key_service() {
    let Some(moto) = crate::kms::Moto::start() else {
        return;
    };
    let arn = moto.create_key();
    let dir = tempdir();
    let aws = [
        ("AWS_ENDPOINT_URL_KMS", moto.url.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let (_server, address) = sops_like_server_with(dir.path(), &[], None, &aws);
    let plain = dir.path().join("k.yaml");
    std::fs::write(&plain, "token: t0p\n").unwrap();
    // Without the key service, this machine cannot reach the key.
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--cipher", "aes256-gcm", "--kms", &arn])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = remote_only(dir.path(), &address)
        .args(["encrypt", "-i", "--cipher", "aes256-gcm", "--kms", &arn])
        .args(["--encryption-context", "app:billing"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let out = remote_decrypt(dir.path(), &address, &plain);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "token: t0p\n");
    if let Some(mut sops) = sops_via(dir.path(), "decrypt", &address) {
        let out = sops.arg(&plain).output().unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "token: t0p\n");
    }
}
