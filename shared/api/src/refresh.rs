//! Secrets read again in the background, so that a secret added for a
//! rotation is honoured without a redeploy.

use std::future::Future;
use std::time::Duration;

use aws_config::SdkConfig;
use tikivip_signing::{ClientKey, Verifier};

use crate::Error;
use crate::config::{Source, keys_from_env, source};

/// How often a secret from Secrets Manager is read again, so that a second
/// active secret added for a rotation is honoured without a redeploy
/// (`SECRETS_REFRESH_SECONDS`, default 5 minutes).
pub const SECRETS_REFRESH: Duration = Duration::from_secs(300);

/// Keeps `verifier`'s keys in step with the secret setting `secret_var`: when
/// it comes from Secrets Manager, a background task reads it again every
/// [`SECRETS_REFRESH`] and swaps the keys in. Never on a request's path; a
/// failed read keeps the keys in use. Call once, during init.
pub fn refresh_keys(
    aws: &SdkConfig,
    verifier: &Verifier,
    id_var: &'static str,
    secret_var: &'static str,
) {
    if !matches!(
        source(secret_var, |var| std::env::var(var).ok()),
        Ok(Source::SecretsManager { .. })
    ) {
        return; // A variable cannot change under a running function.
    }
    let every = std::env::var("SECRETS_REFRESH_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|s: &u64| *s > 0)
        .map_or(SECRETS_REFRESH, Duration::from_secs);
    let aws = aws.clone();
    tokio::spawn(refresh_loop(verifier.clone(), every, move || {
        let aws = aws.clone();
        async move { keys_from_env(&aws, id_var, secret_var).await }
    }));
}

async fn refresh_loop<F, Fut>(verifier: Verifier, every: Duration, load: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Vec<ClientKey>, Error>>,
{
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // A frozen Lambda sandbox wakes with ticks missed: one read, not a burst.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        match load().await {
            Ok(keys) => {
                let count = keys.len();
                if verifier.replace_keys(keys) {
                    tracing::info!(secrets = count, "secret changed; the new keys are in use");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "secret could not be read again; the keys in use stay")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tikivip_signing::{HeaderFamily, Secret};

    use super::*;

    #[tokio::test]
    async fn a_secret_changed_in_secrets_manager_is_honoured_without_a_restart() {
        use tikivip_signing::Signer;
        let key = |secret: &str| ClientKey {
            client_id: "tiki".into(),
            secret: Secret::new(secret),
        };
        let verifier = Verifier::new(HeaderFamily::Tikivip, vec![key("old")]);
        let current = std::sync::Arc::new(Mutex::new(vec![key("old")]));
        let source = current.clone();
        let refresher = tokio::spawn(refresh_loop(
            verifier.clone(),
            Duration::from_millis(20),
            move || {
                let keys = source.lock().unwrap().clone();
                async move { Ok(keys) }
            },
        ));
        let accepts = |secret: &str| {
            let signer = Signer::new(HeaderFamily::Tikivip, "tiki", Secret::new(secret));
            let now = std::time::SystemTime::now();
            let headers: http::HeaderMap = signer.headers(now, b"{}").into_iter().collect();
            verifier.verify(&headers, b"{}", now).is_ok()
        };
        assert!(accepts("old") && !accepts("new"));
        // A rotation: the new secret is added beside the old one.
        *current.lock().unwrap() = vec![key("new"), key("old")];
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(accepts("new") && accepts("old"));
        refresher.abort();
    }
}
