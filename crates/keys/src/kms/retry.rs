//! Bounded retries with exponential backoff, for providers that have no
//! retry logic of their own (Vault, gpg). The AWS SDK retries by itself.

use std::time::Duration;

use super::config::ServiceOptions;
use super::error::ServiceError;

/// The waits between attempts: `backoff`, then doubled each time, for
/// `attempts - 1` retries.
pub(crate) fn delays(options: &ServiceOptions) -> impl Iterator<Item = Duration> + '_ {
    (0..options.attempts.max(1).saturating_sub(1))
        .map(|i| options.backoff.saturating_mul(1u32 << i.min(16)))
}

/// Runs `attempt` until it succeeds, fails permanently, or the attempts are
/// used up, sleeping with `sleep` between tries. Returns the last error.
pub(crate) fn with_retries<T>(
    options: &ServiceOptions,
    mut sleep: impl FnMut(Duration),
    mut attempt: impl FnMut() -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    let mut waits = delays(options);
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(e) if !e.transient => return Err(e),
            Err(e) => match waits.next() {
                Some(wait) => sleep(wait),
                None => return Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::keys::{PgpKey, ServiceKey};

    fn err(transient: bool) -> ServiceError {
        let key = ServiceKey::Pgp(PgpKey::parse("ABCDEF01").unwrap());
        if transient {
            ServiceError::transient(&key, "gpg", "busy")
        } else {
            ServiceError::new(&key, "gpg", "denied")
        }
    }

    fn opts(attempts: u32) -> ServiceOptions {
        ServiceOptions {
            timeout: Duration::from_secs(1),
            attempts,
            backoff: Duration::from_millis(10),
        }
    }

    #[test]
    fn transient_failures_are_retried_with_doubling_waits() {
        let mut slept = Vec::new();
        let mut calls = 0;
        let r: Result<(), _> = with_retries(
            &opts(4),
            |d| slept.push(d),
            || {
                calls += 1;
                Err(err(true))
            },
        );
        assert!(r.unwrap_err().transient);
        assert_eq!(calls, 4);
        assert_eq!(slept, [10, 20, 40].map(Duration::from_millis));
    }

    #[test]
    fn permanent_failure_and_success_stop_at_once() {
        let mut calls = 0;
        let r: Result<(), _> = with_retries(
            &opts(5),
            |_| {},
            || {
                calls += 1;
                Err(err(false))
            },
        );
        assert!(r.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let r = with_retries(
            &opts(5),
            |_| {},
            || {
                calls += 1;
                if calls < 3 {
                    Err(err(true))
                } else {
                    Ok(calls)
                }
            },
        );
        assert_eq!(r.unwrap(), 3);
    }

    #[test]
    fn zero_attempts_means_one() {
        let mut calls = 0;
        let _ = with_retries::<()>(
            &opts(0),
            |_| {},
            || {
                calls += 1;
                Err(err(true))
            },
        );
        assert_eq!(calls, 1);
    }
}
