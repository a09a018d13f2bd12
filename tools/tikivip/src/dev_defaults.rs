//! The development configuration, in one place: `tikivip sign` and
//! `tikivip call` sign with these credentials and `tikivip dev` verifies with
//! them, so the two agree out of the box. Every value can be overridden from
//! the environment; none is valid anywhere but on a developer's machine.
//! (The Makefile repeats the non-secret ones, for the emulator it starts.)

use std::env;

use tikivip_signing::{HeaderFamily, Secret};

/// The port of the local API.
pub const PORT: u16 = 3000;
/// The local AWS emulator started by `scripts/moto.sh`.
pub const AWS_ENDPOINT_URL: &str = "http://127.0.0.1:5005";
pub const AWS_REGION: &str = "ap-southeast-1";
pub const TABLE_NAME: &str = "tikivip-dev";
/// The reconciliation archive (`tikivip reconcile`).
pub const ARCHIVE_BUCKET: &str = "tikivip-dev-archive";

/// Where one header family's credentials come from.
pub struct ClientSource {
    pub client_id_var: &'static str,
    pub secret_var: &'static str,
    pub dev_client_id: &'static str,
    pub dev_secret: &'static str,
}

pub const fn client_source(family: HeaderFamily) -> ClientSource {
    match family {
        HeaderFamily::Tikivip => ClientSource {
            client_id_var: "TIKIVIP_CLIENT_ID",
            secret_var: "TIKIVIP_CLIENT_SECRET",
            dev_client_id: "dev-tiki-client",
            dev_secret: "dev-tiki-secret",
        },
        HeaderFamily::Partner => ClientSource {
            client_id_var: "PARTNER_CLIENT_ID",
            secret_var: "PARTNER_CLIENT_SECRET",
            dev_client_id: "dev-partner-client",
            dev_secret: "dev-partner-secret",
        },
        HeaderFamily::Tiniapp => ClientSource {
            client_id_var: "TINIAPP_CLIENT_ID",
            secret_var: "TINIAPP_CLIENT_SECRET",
            dev_client_id: "dev-tiniapp-client",
            dev_secret: "dev-tiniapp-secret",
        },
    }
}

/// One client's id and secret.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    secret: String,
}

impl Credentials {
    /// Each value from, in order: the one given, the family's environment
    /// variable, the development default.
    pub fn resolve(
        family: HeaderFamily,
        client_id: Option<String>,
        secret: Option<String>,
    ) -> Self {
        let source = client_source(family);
        Credentials {
            client_id: client_id
                .unwrap_or_else(|| var_or(source.client_id_var, source.dev_client_id)),
            secret: secret.unwrap_or_else(|| var_or(source.secret_var, source.dev_secret)),
        }
    }

    pub fn from_env(family: HeaderFamily) -> Self {
        Self::resolve(family, None, None)
    }

    pub fn secret(&self) -> Secret {
        Secret::new(self.secret_bytes())
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        self.secret.as_bytes().to_vec()
    }

    /// Enough of the secret to tell which one is in use, never all of it.
    pub fn secret_hint(&self) -> String {
        self.secret.chars().take(4).chain(['…']).collect()
    }
}

/// The environment variable `name`, or `default` when it is unset or empty.
pub fn var_or(name: &str, default: &str) -> String {
    env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials({}, secret {})",
            self.client_id,
            self.secret_hint()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_values_win_and_the_secret_hint_shows_four_characters() {
        let credentials = Credentials::resolve(
            HeaderFamily::Partner,
            Some("client".into()),
            Some("s3cr3t-value".into()),
        );
        assert_eq!(credentials.client_id, "client");
        assert_eq!(credentials.secret_hint(), "s3cr…");
        assert_eq!(credentials.secret(), Secret::new("s3cr3t-value"));
    }
}
