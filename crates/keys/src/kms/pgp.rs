//! OpenPGP through the user's `gpg` (as sops's fallback does), so that the
//! agent, smartcards and the user's keyrings all work: `gpg --encrypt -a
//! -r FP` wraps, `gpg --decrypt` unwraps. Each run is bounded in time.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::config::ServiceConfig;
use super::error::ServiceError;
use super::keys::{PgpKey, ServiceKey};
use super::retry::with_retries;

/// The largest output read from gpg.
const MAX_OUTPUT: u64 = 1 << 20;

/// Encrypts `secret` to the key; returns the armored PGP message.
pub(crate) fn wrap(
    config: &ServiceConfig,
    key: &PgpKey,
    secret: &[u8],
) -> Result<String, ServiceError> {
    let args = [
        "--encrypt",
        "--armor",
        "--no-encrypt-to",
        "--no-default-recipient",
        "--trust-model",
        "always",
        "--recipient",
        key.fingerprint.as_str(),
    ];
    let out = run(config, key, &args, secret)?;
    String::from_utf8(out.to_vec())
        .map_err(|_| fail(config, key, "gpg wrote a non-text armored message"))
}

/// Decrypts an armored PGP message with the user's secret keys.
pub(crate) fn unwrap(
    config: &ServiceConfig,
    key: &PgpKey,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    run(config, key, &["--use-agent", "--decrypt"], enc.as_bytes())
}

fn program(config: &ServiceConfig) -> String {
    config
        .pgp
        .gpg
        .as_ref()
        .map_or_else(|| "gpg".to_owned(), |p| p.display().to_string())
}

fn fail(config: &ServiceConfig, key: &PgpKey, cause: &str) -> ServiceError {
    ServiceError::new(&ServiceKey::Pgp(key.clone()), &program(config), cause)
}

/// Runs gpg with `args`, feeding `input`; retries only a timeout.
fn run(
    config: &ServiceConfig,
    key: &PgpKey,
    args: &[&str],
    input: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let options = &config.options;
    with_retries(options, thread::sleep, || {
        run_once(config, key, args, input, options.timeout)
    })
}

fn run_once(
    config: &ServiceConfig,
    key: &PgpKey,
    args: &[&str],
    input: &[u8],
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let mut command = Command::new(program(config));
    command
        .args(["--batch", "--no-tty", "--quiet", "--yes", "--output", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(home) = &config.pgp.gnupghome {
        command.env("GNUPGHOME", home);
    }
    let mut child = command
        .spawn()
        .map_err(|e| fail(config, key, &format!("could not run gpg: {e}")))?;
    let stdin = child.stdin.take();
    let input = Zeroizing::new(input.to_vec());
    let writer = thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // A gpg that exits early closes the pipe; its status says why.
            let _ = stdin.write_all(&input);
        }
    });
    let stdout = child.stdout.take().map(|s| reader(s, true));
    let stderr = child.stderr.take().map(|s| reader(s, false));
    let status = wait_bounded(&mut child, timeout);
    let _ = writer.join();
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let Some(status) = status else {
        return Err(ServiceError::transient(
            &ServiceKey::Pgp(key.clone()),
            &program(config),
            format!("gpg did not finish within {} ms", timeout.as_millis()),
        ));
    };
    if !status.success() {
        let message = String::from_utf8_lossy(&err);
        let last = message.lines().rev().find(|l| !l.trim().is_empty());
        return Err(fail(
            config,
            key,
            &format!(
                "gpg failed ({status}): {}",
                last.unwrap_or("no message").trim()
            ),
        ));
    }
    Ok(out)
}

/// Reads a pipe to its end (at most [`MAX_OUTPUT`] bytes) on a thread.
fn reader(
    pipe: impl Read + Send + 'static,
    secret: bool,
) -> thread::JoinHandle<Zeroizing<Vec<u8>>> {
    thread::spawn(move || {
        // Grown by hand (see `crate::secret`): gpg's output is the data key
        // when unwrapping.
        let mut buf = Zeroizing::new(Vec::new());
        let _ = crate::secret::read_to_end(&mut pipe.take(MAX_OUTPUT), &mut buf);
        if !secret {
            // stderr: keep only text, never decrypted bytes.
            buf.retain(|b| b.is_ascii());
        }
        buf
    })
}

/// Waits for the child up to `timeout`; kills it after that.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::config::{PgpConfig, ServiceOptions};

    #[test]
    fn a_missing_gpg_is_named() {
        let config = ServiceConfig {
            pgp: PgpConfig {
                gpg: Some("/nonexistent/gpg".into()),
                gnupghome: None,
            },
            ..ServiceConfig::default()
        };
        let key = PgpKey::parse("ABCDEF0123456789").unwrap();
        let e = unwrap(&config, &key, "x").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("pgp key ABCDEF0123456789 at /nonexistent/gpg: could not run gpg"),
            "{text}"
        );
    }

    #[test]
    fn a_hanging_gpg_is_killed_within_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("gpg");
        std::fs::write(&fake, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .unwrap();
        let config = ServiceConfig {
            options: ServiceOptions {
                timeout: Duration::from_millis(300),
                attempts: 2,
                backoff: Duration::from_millis(10),
            },
            pgp: PgpConfig {
                gpg: Some(fake),
                gnupghome: None,
            },
            ..ServiceConfig::default()
        };
        let key = PgpKey::parse("ABCDEF0123456789").unwrap();
        let start = Instant::now();
        let e = unwrap(&config, &key, "x").unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(
            e.to_string().contains("did not finish within 300 ms"),
            "{e}"
        );
    }
}
