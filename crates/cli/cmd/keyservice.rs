//! `keyservice`: serve this machine's keys (its age identities and KMS
//! credentials) to sops and sops-like processes elsewhere, as `sops
//! keyservice` does: they send a master key and an `enc`, and get back the
//! data key (or send a data key and get back its `enc`). The usual setup
//! forwards the port over ssh (`ssh -R 5000:127.0.0.1:5000 host`, then
//! `sops-like --keyservice tcp://127.0.0.1:5000 decrypt …` there).

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use sops_like_keys::remote::server::{serve, Handler, Listen, LocalKeys};
use sops_like_keys::{KeyRecipient, MasterKey};
use zeroize::Zeroizing;

use crate::args::KeyserviceServeArgs;
use crate::exit::{code, Failure, Result};
use crate::keysource;

pub fn run(args: KeyserviceServeArgs, verbose: bool) -> Result<()> {
    let listen =
        Listen::new(&args.network, &args.address).map_err(|e| Failure::new(code::GENERIC, e))?;
    if let Listen::Tcp(address) = &listen {
        if !is_loopback(address) {
            stderr!(
                "warning: {address} is not a loopback address: the key service has no TLS and no \
                 authentication, so anyone who can reach it can unwrap your data keys \
                 (listen on 127.0.0.1 and forward it over ssh instead)"
            );
        }
    }
    let mut handler: Box<dyn Handler> = Box::new(LocalKeys::new(
        keysource::identities(&[]),
        keysource::services(),
    ));
    if args.prompt {
        handler = Box::new(Prompting {
            inner: handler,
            asking: Mutex::new(()),
        });
    }
    if verbose {
        handler = Box::new(Logged { inner: handler });
    }
    let handler: Arc<dyn Handler> = Arc::from(handler);
    // SIGINT or SIGTERM stops the server (a Unix socket is removed).
    let stop = async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
    };
    let network = args.network.clone();
    serve(&listen, handler, stop, |address| {
        stderr!("Listening on {network}://{address}");
    })
    .map_err(|e| Failure::new(code::GENERIC, e))
}

/// Whether `address` (`host:port`) names this machine only.
fn is_loopback(address: &str) -> bool {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a request names, for the terminal (never a secret).
fn label_of_recipient(recipient: &KeyRecipient) -> String {
    match recipient {
        KeyRecipient::Age(r) => format!("age key {}", r.as_str()),
        KeyRecipient::Service(k) => format!("{} key {}", k.kind(), k.id()),
        _ => "a key".to_owned(),
    }
}

fn label_of_key(key: &MasterKey) -> String {
    format!("{} key {}", key.kind(), key.label())
}

type Answer<T> = std::result::Result<T, String>;

/// `--verbose`: each request and its outcome on stderr.
struct Logged {
    inner: Box<dyn Handler>,
}

impl Logged {
    fn log<T>(what: &str, key: &str, answer: Answer<T>) -> Answer<T> {
        match &answer {
            Ok(_) => stderr!("{what} request using {key}: answered"),
            Err(e) => stderr!("{what} request using {key}: failed: {e}"),
        }
        answer
    }
}

impl Handler for Logged {
    fn encrypt(&self, recipient: &KeyRecipient, secret: &[u8]) -> Answer<String> {
        let answer = self.inner.encrypt(recipient, secret);
        Self::log("encrypt", &label_of_recipient(recipient), answer)
    }

    fn decrypt(&self, key: &MasterKey) -> Answer<Zeroizing<Vec<u8>>> {
        Self::log("decrypt", &label_of_key(key), self.inner.decrypt(key))
    }
}

/// `--prompt`: each request is shown on the terminal and answered only
/// after a `y` (one question at a time).
struct Prompting {
    inner: Box<dyn Handler>,
    asking: Mutex<()>,
}

impl Prompting {
    fn allowed(&self, what: &str, key: &str) -> Answer<()> {
        let _one = self
            .asking
            .lock()
            .map_err(|_| "the prompt failed".to_owned())?;
        let stdin = std::io::stdin();
        loop {
            let _ = write!(
                std::io::stderr(),
                "\nReceived {what} request using {key}. Respond to request? (y/n): "
            );
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            match stdin.lock().read_line(&mut answer) {
                Ok(0) | Err(_) => return Err("Request rejected: no answer".to_owned()),
                Ok(_) => {}
            }
            match answer.trim() {
                "y" => return Ok(()),
                "n" => return Err("Request rejected by user".to_owned()),
                _ => {}
            }
        }
    }
}

impl Handler for Prompting {
    fn encrypt(&self, recipient: &KeyRecipient, secret: &[u8]) -> Answer<String> {
        self.allowed("encrypt", &label_of_recipient(recipient))?;
        self.inner.encrypt(recipient, secret)
    }

    fn decrypt(&self, key: &MasterKey) -> Answer<Zeroizing<Vec<u8>>> {
        self.allowed("decrypt", &label_of_key(key))?;
        self.inner.decrypt(key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_addresses() {
        for ok in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3:0",
        ] {
            assert!(super::is_loopback(ok), "{ok}");
        }
        for no in [
            "0.0.0.0:5000",
            "[::]:5000",
            "10.0.0.1:5000",
            "example.com:5000",
        ] {
            assert!(!super::is_loopback(no), "{no}");
        }
    }
}
