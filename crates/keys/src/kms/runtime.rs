//! A small single-threaded tokio runtime, created on first use, for the
//! async HTTP clients (reqwest, the AWS SDK). Callers stay synchronous.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// A runtime built the first time it is needed.
#[derive(Default)]
pub(crate) struct Lazy(OnceLock<Result<Runtime, String>>);

impl Lazy {
    /// Runs `future` to completion, or says why no runtime could be built.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> Result<F::Output, String> {
        let runtime = self.0.get_or_init(|| {
            Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("could not start the async runtime: {e}"))
        });
        match runtime {
            Ok(rt) => Ok(rt.block_on(future)),
            Err(e) => Err(e.clone()),
        }
    }
}
