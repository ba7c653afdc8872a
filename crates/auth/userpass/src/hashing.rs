//! Password hashing and verification off the async executor: Argon2id takes
//! tens of milliseconds of CPU, so it runs on tokio's blocking pool when a
//! runtime is available.

use coffer_crypto::{hash_password, verify_against_dummy, verify_password};
use coffer_types::Sensitive;

use crate::UserpassError;

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UserpassError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|_| UserpassError::HashTask),
        Err(_) => Ok(f()),
    }
}

/// The PHC string of `password`.
pub(crate) async fn hash(password: Sensitive) -> Result<String, UserpassError> {
    run_blocking(move || hash_password(password.expose().as_bytes()))
        .await?
        .map_err(UserpassError::from)
}

/// Whether `password` matches `phc`. With no hash (unknown user) the same
/// work is done against a dummy and the answer is `false`.
pub(crate) async fn verify(password: Sensitive, phc: Option<String>) -> bool {
    run_blocking(move || match phc {
        Some(phc) => verify_password(password.expose().as_bytes(), &phc),
        None => {
            verify_against_dummy(password.expose().as_bytes());
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let phc = hash(Sensitive::new("pw")).await.unwrap();
        assert!(verify(Sensitive::new("pw"), Some(phc.clone())).await);
        assert!(!verify(Sensitive::new("nope"), Some(phc)).await);
        assert!(!verify(Sensitive::new("pw"), None).await);
    }

    #[test]
    fn works_without_a_runtime() {
        let fut = async {
            let phc = hash(Sensitive::new("pw")).await.unwrap();
            verify(Sensitive::new("pw"), Some(phc)).await
        };
        // A minimal executor: the futures above never pend without a runtime.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(ok) => assert!(ok),
            std::task::Poll::Pending => panic!("pending without a runtime"),
        }
    }
}
