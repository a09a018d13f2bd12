use tikivip_signing::{ClientKey, Secret};

use crate::Error;

pub fn required_env(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Config(format!("{name} is not set")))
}

/// The keys one client may sign with. `secret_var` holds one secret, or several
/// separated by commas while a secret is rotated (newest first).
pub fn keys_from_env(id_var: &str, secret_var: &str) -> Result<Vec<ClientKey>, Error> {
    let client_id = required_env(id_var)?;
    let secrets = required_env(secret_var)?;
    Ok(secrets
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|secret| ClientKey {
            client_id: client_id.clone(),
            secret: Secret::new(secret),
        })
        .collect())
}
