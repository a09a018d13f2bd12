//! `tikivip sign`: the three signature headers for a request, to paste into
//! curl or Postman; and the signing options `tikivip call` shares.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, ValueEnum};
use tikivip_signing::{HeaderFamily, Signer};

use crate::Error;
use crate::dev_defaults::Credentials;

/// Who signs, i.e. which headers and which credentials.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Family {
    /// Tiki calling us: X-Tikivip-* headers, Tiki's client.
    Tikivip,
    /// The partner's payment core calling /v1/ipn: X-Partner-* headers.
    Partner,
    /// The Tini App platform calling /v1/tiniapp/ipn: X-Tiniapp-* headers.
    Tiniapp,
}

impl From<Family> for HeaderFamily {
    fn from(family: Family) -> Self {
        match family {
            Family::Tikivip => HeaderFamily::Tikivip,
            Family::Partner => HeaderFamily::Partner,
            Family::Tiniapp => HeaderFamily::Tiniapp,
        }
    }
}

#[derive(Args, Debug)]
pub struct SignerArgs {
    #[arg(long, value_enum, default_value_t = Family::Tikivip)]
    pub family: Family,
    /// [default: $TIKIVIP_CLIENT_ID, $PARTNER_CLIENT_ID or $TINIAPP_CLIENT_ID
    /// by family, else the development client]
    #[arg(long)]
    pub client_id: Option<String>,
    /// [default: $TIKIVIP_CLIENT_SECRET, $PARTNER_CLIENT_SECRET or
    /// $TINIAPP_CLIENT_SECRET by family, else the development secret]
    #[arg(long)]
    pub secret: Option<String>,
}

impl SignerArgs {
    pub fn signer(&self) -> Signer {
        let family = HeaderFamily::from(self.family);
        let credentials = Credentials::resolve(family, self.client_id.clone(), self.secret.clone());
        Signer::new(family, credentials.client_id.clone(), credentials.secret())
    }
}

/// A request body, which is signed and sent byte for byte.
#[derive(Args, Debug)]
#[group(multiple = false)]
pub struct BodyArgs {
    /// The body, e.g. '{"tiki_transaction_id":"T1","transaction_amount":99000}'
    #[arg(long, value_name = "JSON")]
    pub body: Option<String>,
    /// A file holding the body (every byte counts, a final newline too)
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

impl BodyArgs {
    pub fn read(&self) -> Result<Option<Vec<u8>>, Error> {
        match (&self.body, &self.body_file) {
            (Some(body), _) => Ok(Some(body.clone().into_bytes())),
            (None, Some(path)) => fs::read(path)
                .map(Some)
                .map_err(|e| format!("reading {}: {e}", path.display()).into()),
            (None, None) => Ok(None),
        }
    }
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("signed").required(true).args(["body", "body_file", "get"])))]
pub struct SignArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Unix time in milliseconds [default: now]
    #[arg(long, value_name = "MS")]
    pub timestamp: Option<u64>,
    #[command(flatten)]
    pub body: BodyArgs,
    /// Sign a GET of this path and query, percent-encoded exactly as it will
    /// be sent, e.g. '/v1/transactions?tiki_transaction_id=T1'
    #[arg(long, value_name = "PATH_AND_QUERY")]
    pub get: Option<String>,
}

pub fn run(args: &SignArgs) -> Result<(), Error> {
    for line in header_lines(args)? {
        println!("{line}");
    }
    Ok(())
}

/// `Name: value` lines, names capitalised as in Tiki's documentation.
fn header_lines(args: &SignArgs) -> Result<Vec<String>, Error> {
    let signed_part = match &args.get {
        Some(path_and_query) => path_and_query.clone().into_bytes(),
        None => args.body.read()?.unwrap_or_default(),
    };
    let at = args
        .timestamp
        .map_or_else(SystemTime::now, |ms| UNIX_EPOCH + Duration::from_millis(ms));
    let headers = args.signer.signer().headers(at, &signed_part);
    Ok(headers
        .iter()
        .map(|(name, value)| {
            let name: Vec<String> = name.as_str().split('-').map(capitalise).collect();
            format!("{}: {}", name.join("-"), value.to_str().unwrap_or_default())
        })
        .collect())
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sign: SignArgs,
    }

    fn lines(args: &[&str]) -> Vec<String> {
        let tiki = [
            "sign",
            "--client-id=RLCKb7Ae9kx4DXtXsCWjnDXtggFnM43W",
            "--secret=EhjGcsUUuRSJTHiYPbW5fxzyaKEx0JuAZIKRQ4HnIfNFidB2kMg6locQbTIEz3Vf",
            "--timestamp=1620621619569",
        ];
        let cli = Cli::parse_from(tiki.iter().chain(args));
        header_lines(&cli.sign).unwrap()
    }

    /// The vectors Tiki publishes (SPEC.md).
    #[test]
    fn prints_tikis_published_vectors() {
        assert_eq!(
            lines(&[r#"--body={"id":123}"#]),
            [
                "X-Tikivip-Timestamp: 1620621619569",
                "X-Tikivip-Client-Id: RLCKb7Ae9kx4DXtXsCWjnDXtggFnM43W",
                "X-Tikivip-Signature: 8ebd092b9df2cf90e8ccbcab2ba87ee14f2abb25eb8f18b4d7286d42adcd45c2",
            ]
        );
        let get = "--get=/order?location=H%C3%A0%20N%E1%BB%99i&order_id=88062110977884170";
        assert_eq!(
            lines(&[get, "--family=tiniapp"])[2],
            "X-Tiniapp-Signature: e1e0d63f7f8296dd31b2c082e611351a6c41a3bc0309a9299832f70b693722c8"
        );
    }

    #[test]
    fn exactly_one_thing_to_sign() {
        assert!(Cli::try_parse_from(["sign"]).is_err());
        assert!(Cli::try_parse_from(["sign", "--body={}", "--get=/v1/x"]).is_err());
        assert!(Cli::try_parse_from(["sign", "--body={}", "--body-file=f"]).is_err());
        assert!(Cli::try_parse_from(["sign", "--get=/v1/x", "--family=partner"]).is_ok());
    }
}
