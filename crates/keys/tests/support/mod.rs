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
    pub fn start(mut command: Command, port: u16) -> Server {
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
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                panic!("the server exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
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
