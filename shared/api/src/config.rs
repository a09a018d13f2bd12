//! Settings read once, at a function's start.
//!
//! A secret setting `NAME` (say `TIKIVIP_CLIENT_SECRET`) comes from AWS Secrets
//! Manager when `NAME_ARN` is set — what the deployment template does — and
//! from the variable `NAME` itself otherwise (development and tests). Either way
//! the value holds one secret, or several separated by commas while a secret is
//! rotated, newest first: `new,old`, then `new` once every caller has moved.
//!
//! A secret's value is never logged nor put in an error message.

use std::future::Future;

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use tikivip_signing::{ClientKey, HeaderFamily, Secret, Verifier};
use tikivip_store::Store;

use crate::Error;

/// The suffix of the variable that names a secret setting's Secrets Manager
/// secret: `TIKIVIP_CLIENT_SECRET_ARN` for `TIKIVIP_CLIENT_SECRET`.
pub const ARN_SUFFIX: &str = "_ARN";

pub fn required_env(name: &str) -> Result<String, Error> {
    required(name, |var| std::env::var(var).ok())
}

fn required(name: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, Error> {
    env(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Config(format!("{name} is not set")))
}

/// The AWS configuration every client of a process is built from: region,
/// credentials and endpoint from the SDK's default chain (so
/// `AWS_ENDPOINT_URL` points every client at an emulator), and one HTTP
/// client, so that the CA bundle is read and the connector built once, not
/// once per AWS service. Load it once per process, during init.
pub async fn load_aws_config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The keys of [`keys_from_env`] and the store, fetched side by side: in AWS
/// each is a TLS connection of its own (Secrets Manager, DynamoDB, with the
/// store's warm-up call), and init then costs the slower of the two, not both.
pub async fn keys_and_store(
    aws: &SdkConfig,
    id_var: &str,
    secret_var: &str,
) -> Result<(Vec<ClientKey>, Store), Error> {
    tokio::try_join!(keys_from_env(aws, id_var, secret_var), async {
        Ok(Store::from_env(aws).await?)
    })
}

/// A verifier of `family` over the keys of [`keys_from_env`], kept in step
/// with the secret by [`refresh_keys`], and the store, fetched side by side.
pub async fn verifier_and_store(
    aws: &SdkConfig,
    family: HeaderFamily,
    id_var: &'static str,
    secret_var: &'static str,
) -> Result<(Verifier, Store), Error> {
    let (keys, store) = keys_and_store(aws, id_var, secret_var).await?;
    let verifier = Verifier::new(family, keys);
    crate::refresh::refresh_keys(aws, &verifier, id_var, secret_var);
    Ok((verifier, store))
}

/// The keys one client may sign with: its id from `id_var`, and each of the
/// secrets of the secret setting `secret_var` (see [`load_secrets`]).
pub async fn keys_from_env(
    aws: &SdkConfig,
    id_var: &str,
    secret_var: &str,
) -> Result<Vec<ClientKey>, Error> {
    keys_with(
        id_var,
        secret_var,
        |var| std::env::var(var).ok(),
        |arn| fetch_secret_string(aws, arn),
    )
    .await
}

/// The secrets of the setting `name`, newest first and never empty: from the
/// Secrets Manager secret `name_ARN` names, else from the variable `name`,
/// the variables looked up by `env` (which answers `None` for an unset one).
pub async fn load_secrets(
    aws: &SdkConfig,
    name: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Secret>, Error> {
    load_secrets_with(name, env, |arn| fetch_secret_string(aws, arn)).await
}

/// The whole text of the setting `name` (a JSON document, say): from the
/// Secrets Manager secret `name_ARN` names, else from the variable `name`.
pub async fn load_secret_text(
    aws: &SdkConfig,
    name: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, Error> {
    match source(name, env)? {
        Source::Variable(value) => Ok(value),
        Source::SecretsManager { arn } => fetch_secret_string(aws, arn).await,
    }
}

async fn keys_with<F, Fut>(
    id_var: &str,
    secret_var: &str,
    env: impl Fn(&str) -> Option<String>,
    fetch: F,
) -> Result<Vec<ClientKey>, Error>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<String, Error>>,
{
    let client_id = required(id_var, &env)?;
    let secrets = load_secrets_with(secret_var, &env, fetch).await?;
    Ok(secrets
        .into_iter()
        .map(|secret| ClientKey {
            client_id: client_id.clone(),
            secret,
        })
        .collect())
}

/// Where a secret setting is read from. No `Debug`: one holds the secret.
pub(crate) enum Source {
    SecretsManager { arn: String },
    Variable(String),
}

pub(crate) fn source(name: &str, env: impl Fn(&str) -> Option<String>) -> Result<Source, Error> {
    let set = |var: &str| env(var).filter(|value| !value.trim().is_empty());
    let arn_var = format!("{name}{ARN_SUFFIX}");
    // An empty `NAME_ARN` counts as unset: SAM passes an unset parameter as "".
    if let Some(arn) = set(&arn_var) {
        return Ok(Source::SecretsManager {
            arn: arn.trim().to_owned(),
        });
    }
    set(name).map(Source::Variable).ok_or_else(|| {
        Error::Config(format!(
            "neither {arn_var} (a Secrets Manager secret) nor {name} is set"
        ))
    })
}

async fn load_secrets_with<F, Fut>(
    name: &str,
    env: impl Fn(&str) -> Option<String>,
    fetch: F,
) -> Result<Vec<Secret>, Error>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<String, Error>>,
{
    match source(name, env)? {
        Source::Variable(value) => split_secrets(name, &value),
        Source::SecretsManager { arn } => {
            let value = fetch(arn.clone()).await?;
            let secrets = split_secrets(&format!("{name} (secret {arn})"), &value)?;
            tracing::info!(
                setting = name,
                secret_arn = %arn,
                secrets = secrets.len(),
                "secret loaded from Secrets Manager"
            );
            Ok(secrets)
        }
    }
}

/// One secret, or several separated by commas (newest first). Spaces and line
/// ends around each are dropped: a value pasted from a file keeps its newline.
fn split_secrets(what: &str, value: &str) -> Result<Vec<Secret>, Error> {
    let trimmed = value.trim();
    // The console's default for a new secret is a key/value pair, stored as
    // JSON: as a key that would be the JSON text, which no caller signs with.
    if trimmed.starts_with('{') {
        return Err(Error::Config(format!(
            "{what} holds JSON (a key/value secret); store the plain secret text instead"
        )));
    }
    let secrets: Vec<Secret> = trimmed
        .split(',')
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .map(Secret::new)
        .collect();
    if secrets.is_empty() {
        return Err(Error::Config(format!("{what} holds no secret")));
    }
    Ok(secrets)
}

/// The `SecretString` of a Secrets Manager secret, at its current version.
async fn fetch_secret_string(aws: &SdkConfig, arn: String) -> Result<String, Error> {
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let output = client
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .map_err(|err| {
            Error::Config(format!(
                "reading secret {arn}: {}",
                DisplayErrorContext(&err)
            ))
        })?;
    output.secret_string.ok_or_else(|| {
        Error::Config(format!(
            "secret {arn} has no text value (binary secrets are not supported)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|v| Secret::new(*v)).collect()
    }

    /// A stand-in for Secrets Manager that records the ARNs asked for.
    struct FakeSecretsManager {
        value: Result<String, String>,
        asked: Mutex<Vec<String>>,
    }

    impl FakeSecretsManager {
        fn holding(value: &str) -> Self {
            FakeSecretsManager {
                value: Ok(value.to_owned()),
                asked: Mutex::new(Vec::new()),
            }
        }

        fn failing(reason: &str) -> Self {
            FakeSecretsManager {
                value: Err(reason.to_owned()),
                asked: Mutex::new(Vec::new()),
            }
        }

        async fn fetch(&self, arn: String) -> Result<String, Error> {
            self.asked.lock().unwrap().push(arn);
            self.value.clone().map_err(Error::Config)
        }

        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
    }

    const ARN: &str = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:tiki-AbCdEf";

    async fn load(
        vars: &[(&str, &str)],
        manager: &FakeSecretsManager,
    ) -> Result<Vec<Secret>, Error> {
        load_secrets_with("TIKIVIP_CLIENT_SECRET", env(vars), |arn| manager.fetch(arn)).await
    }

    #[tokio::test]
    async fn without_an_arn_the_variable_itself_is_read() {
        let manager = FakeSecretsManager::holding("from-secrets-manager");
        let loaded = load(&[("TIKIVIP_CLIENT_SECRET", "local-secret")], &manager)
            .await
            .unwrap();
        assert_eq!(loaded, secrets(&["local-secret"]));
        assert!(manager.asked().is_empty(), "Secrets Manager is not called");
    }

    #[tokio::test]
    async fn an_arn_wins_over_the_variable() {
        let manager = FakeSecretsManager::holding("from-secrets-manager");
        let loaded = load(
            &[
                ("TIKIVIP_CLIENT_SECRET_ARN", ARN),
                ("TIKIVIP_CLIENT_SECRET", "local-secret"),
            ],
            &manager,
        )
        .await
        .unwrap();
        assert_eq!(loaded, secrets(&["from-secrets-manager"]));
        assert_eq!(manager.asked(), [ARN]);
    }

    #[tokio::test]
    async fn an_empty_arn_counts_as_unset() {
        let manager = FakeSecretsManager::holding("from-secrets-manager");
        let loaded = load(
            &[
                ("TIKIVIP_CLIENT_SECRET_ARN", " "),
                ("TIKIVIP_CLIENT_SECRET", "local-secret"),
            ],
            &manager,
        )
        .await
        .unwrap();
        assert_eq!(loaded, secrets(&["local-secret"]));
        assert!(manager.asked().is_empty());
    }

    #[tokio::test]
    async fn neither_set_names_both_variables() {
        let manager = FakeSecretsManager::holding("unused");
        for vars in [&[][..], &[("TIKIVIP_CLIENT_SECRET", "")][..]] {
            let err = load(vars, &manager).await.unwrap_err().to_string();
            assert!(err.contains("TIKIVIP_CLIENT_SECRET_ARN"), "{err}");
            assert!(err.contains("nor TIKIVIP_CLIENT_SECRET is set"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_rotating_secret_holds_the_newest_first() {
        let manager = FakeSecretsManager::holding("new-secret,old-secret");
        let loaded = load(&[("TIKIVIP_CLIENT_SECRET_ARN", ARN)], &manager)
            .await
            .unwrap();
        assert_eq!(loaded, secrets(&["new-secret", "old-secret"]));
    }

    #[test]
    fn spaces_line_ends_and_empty_parts_are_dropped() {
        assert_eq!(
            split_secrets("S", " new , old ,,\n").unwrap(),
            secrets(&["new", "old"])
        );
        assert_eq!(split_secrets("S", "only\n").unwrap(), secrets(&["only"]));
    }

    #[test]
    fn a_value_of_nothing_but_commas_is_refused() {
        for value in ["", " ", ",", " , ,\n"] {
            let err = split_secrets("TIKIVIP_CLIENT_SECRET", value)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("TIKIVIP_CLIENT_SECRET holds no secret"),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn a_key_value_secret_is_refused_without_showing_it() {
        let manager = FakeSecretsManager::holding(r#"{"secret":"s3cr3t-value"}"#);
        let err = load(&[("TIKIVIP_CLIENT_SECRET_ARN", ARN)], &manager)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds JSON"), "{err}");
        assert!(err.contains(ARN), "the error says which secret: {err}");
        assert!(
            !err.contains("s3cr3t"),
            "the error never shows the value: {err}"
        );
    }

    #[tokio::test]
    async fn a_secrets_manager_failure_stops_the_start() {
        let manager = FakeSecretsManager::failing("AccessDeniedException");
        let err = load(&[("TIKIVIP_CLIENT_SECRET_ARN", ARN)], &manager)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("AccessDeniedException"), "{err}");
    }

    #[tokio::test]
    async fn keys_pair_the_client_id_with_each_secret() {
        let manager = FakeSecretsManager::holding("new-secret,old-secret");
        let vars = env(&[
            ("TIKIVIP_CLIENT_ID", "tiki-client"),
            ("TIKIVIP_CLIENT_SECRET_ARN", ARN),
        ]);
        let keys = keys_with("TIKIVIP_CLIENT_ID", "TIKIVIP_CLIENT_SECRET", vars, |arn| {
            manager.fetch(arn)
        })
        .await
        .unwrap();
        let pairs: Vec<_> = keys
            .into_iter()
            .map(|key| (key.client_id, key.secret))
            .collect();
        assert_eq!(
            pairs,
            [
                ("tiki-client".to_owned(), Secret::new("new-secret")),
                ("tiki-client".to_owned(), Secret::new("old-secret")),
            ]
        );
    }

    #[tokio::test]
    async fn keys_need_the_client_id() {
        let manager = FakeSecretsManager::holding("secret");
        let vars = env(&[("TIKIVIP_CLIENT_SECRET", "local-secret")]);
        let err = keys_with("TIKIVIP_CLIENT_ID", "TIKIVIP_CLIENT_SECRET", vars, |arn| {
            manager.fetch(arn)
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("TIKIVIP_CLIENT_ID is not set"), "{err}");
        assert!(manager.asked().is_empty());
    }
}
