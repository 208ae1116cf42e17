//! A small single-threaded tokio runtime, created on first use, for the
//! async HTTP clients (reqwest, the AWS SDK). Callers stay synchronous.

use std::future::Future;
use std::sync::OnceLock;

use super::config::ServiceOptions;
use super::error::ServiceError;
use super::keys::ServiceKey;
use super::retry::with_retries;

use tokio::runtime::{Builder, Runtime};

/// A runtime built the first time it is needed.
#[derive(Default)]
pub(crate) struct Lazy(OnceLock<Result<Runtime, String>>);

/// Shut down without waiting: a runtime dropped inside another one's async
/// context panics ("Cannot drop a runtime in a context where blocking is
/// not allowed"), which is where a key service server drops its handler,
/// and with it these services, when it stops.
impl Drop for Lazy {
    fn drop(&mut self) {
        if let Some(Ok(runtime)) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

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

    /// Runs the future `request()` makes, at most `options.timeout` per
    /// attempt, with bounded retries. A client error becomes `classify`'s
    /// [`ServiceError`]; no runtime, or no answer in time (transient), is
    /// an error of `key` at `endpoint`.
    pub(crate) fn retried<F, T, E>(
        &self,
        options: &ServiceOptions,
        key: &ServiceKey,
        endpoint: &str,
        mut request: impl FnMut() -> F,
        classify: impl Fn(&E) -> ServiceError,
    ) -> Result<T, ServiceError>
    where
        F: Future<Output = Result<T, E>>,
    {
        with_retries(options, std::thread::sleep, || {
            let future = request();
            // The timer must be created inside the runtime.
            let attempt = async { tokio::time::timeout(options.timeout, future).await };
            match self
                .block_on(attempt)
                .map_err(|e| ServiceError::new(key, endpoint, e))?
            {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(classify(&e)),
                Err(_) => Err(ServiceError::transient(
                    key,
                    endpoint,
                    format!("no answer within {} ms", options.timeout.as_millis()),
                )),
            }
        })
    }
}
