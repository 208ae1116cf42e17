//! Local servers for the key service tests: find a binary, pick a free
//! port, start it on 127.0.0.1, wait (bounded) until it listens, and kill it
//! when dropped. A missing binary skips the test with a note, except when
//! `CI=true`, where it fails.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where tools are looked for besides `PATH`: the project venvs.
fn extra_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    vec![root.join(".venv/bin"), root.join(".venv-kms/bin")]
}

/// The path of `name`, or `None` (after printing a skip note; panics when
/// `CI=true`).
pub fn tool(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = extra_dirs()
        .into_iter()
        .chain(path_dirs)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let note = format!("{name} not found (run scripts/kms-servers.sh install)");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{note}");
        }
        eprintln!("SKIPPED: {note}");
    }
    found
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A server process, killed on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
}

impl Server {
    /// Starts `command` (which must listen on `port`) and waits up to 60 s.
    pub fn start(command: Command, port: u16) -> Server {
        match Server::try_start(command, port) {
            Ok(server) => server,
            Err(why) => panic!("{why}"),
        }
    }

    /// Starts `make(port)` on a free port. A port from [`free_port`] can be
    /// taken by a concurrent test's server before this one binds it (the
    /// loser exits at once, and the port answers for the other server), so
    /// a server that exits is retried on another port, five times at most.
    pub fn start_on_free_port(make: impl Fn(u16) -> Command) -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            match Server::try_start(make(port), port) {
                Ok(server) => return server,
                Err(why) => last = why,
            }
        }
        panic!("the server did not start on five ports: {last}");
    }

    fn try_start(mut command: Command, port: u16) -> Result<Server, String> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server {
            child: Some(child),
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let exited = |server: &mut Server| match server.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(format!("the server exited early: {status}")),
            _ => None,
        };
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(why) = exited(&mut server) {
                return Err(why);
            }
            if Instant::now() >= deadline {
                return Err("the server did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Listening: but is it this server? One that lost the port exits.
        std::thread::sleep(Duration::from_millis(300));
        match exited(&mut server) {
            Some(why) => Err(why),
            None => Ok(server),
        }
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a command to completion, panicking with its stderr on failure.
pub fn run(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The real sops binary, if installed.
pub fn sops() -> Option<PathBuf> {
    tool("sops")
}

/// A private CA and a server certificate it signed for `127.0.0.1`, made
/// with the `openssl` CLI in `dir`: the paths of the CA certificate, the
/// server certificate and the server key (PEM). `None` (after a skip note;
/// a panic when `CI=true`) without openssl.
pub fn test_ca(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let openssl = tool("openssl")?;
    let p = |name: &str| dir.join(name);
    let (ca_key, ca, key, csr, cert, ext) = (
        p("ca-key.pem"),
        p("ca.pem"),
        p("server-key.pem"),
        p("server.csr"),
        p("server.pem"),
        p("server.ext"),
    );
    run(Command::new(&openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=sops-like test CA", "-keyout"])
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new(&openssl)
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new(&openssl)
        .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-out")
        .arg(&cert)
        .arg("-extfile")
        .arg(&ext));
    Some((ca, cert, key))
}
