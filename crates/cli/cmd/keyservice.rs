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

pub fn run(args: KeyserviceServeArgs) -> Result<()> {
    let listen =
        Listen::new(&args.network, &args.address).map_err(|e| Failure::new(code::GENERIC, e))?;
    let local = LocalKeys::new(keysource::identities()?, keysource::services());
    let handler: Arc<dyn Handler> = if args.prompt {
        Arc::new(Prompting {
            inner: local,
            asking: Mutex::new(()),
        })
    } else {
        Arc::new(local)
    };
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
        eprintln!("Listening on {network}://{address}");
    })
    .map_err(|e| Failure::new(code::GENERIC, e))
}

/// `--prompt`: each request is shown on the terminal and answered only
/// after a `y` (one question at a time).
struct Prompting {
    inner: LocalKeys,
    asking: Mutex<()>,
}

impl Prompting {
    fn allowed(&self, what: &str, key: &str) -> std::result::Result<(), String> {
        let _one = self
            .asking
            .lock()
            .map_err(|_| "the prompt failed".to_owned())?;
        let stdin = std::io::stdin();
        loop {
            eprint!("\nReceived {what} request using {key}. Respond to request? (y/n): ");
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
    fn encrypt(
        &self,
        recipient: &KeyRecipient,
        secret: &[u8],
    ) -> std::result::Result<String, String> {
        let label = match recipient {
            KeyRecipient::Age(r) => format!("age key {}", r.as_str()),
            KeyRecipient::Service(k) => format!("{} key {}", k.kind(), k.id()),
            _ => "a key".to_owned(),
        };
        self.allowed("encrypt", &label)?;
        self.inner.encrypt(recipient, secret)
    }

    fn decrypt(&self, key: &MasterKey) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        self.allowed("decrypt", &format!("{} key {}", key.kind(), key.label()))?;
        self.inner.decrypt(key)
    }
}
