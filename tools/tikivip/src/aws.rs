//! Which AWS account and region a command acts on, taken as the AWS CLI takes
//! them: `--profile` and `--region`, else `AWS_PROFILE` and `AWS_REGION`, else
//! the default profile of `~/.aws/config` and `~/.aws/credentials`. As with
//! the AWS CLI, a profile named by `--profile` gives the credentials even when
//! `AWS_ACCESS_KEY_ID` is set (one named by `AWS_PROFILE` does not).
//! `AWS_ENDPOINT_URL` points every client at the local emulator.

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_runtime::env_config::file::EnvConfigFiles;
use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// The named profile of the AWS CLI's files (credentials, region)
    /// [default: $AWS_PROFILE, else the default profile]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The AWS region, e.g. ap-southeast-1 [default: $AWS_REGION, else the
    /// profile's region]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl AwsArgs {
    /// The SDK's default chain, with the profile and region given winning.
    pub fn loader(&self) -> ConfigLoader {
        self.loader_reading(EnvConfigFiles::default())
    }

    fn loader_reading(&self, files: EnvConfigFiles) -> ConfigLoader {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).profile_files(files.clone());
        if let Some(profile) = &self.profile {
            let credentials = ProfileFileCredentialsProvider::builder()
                .profile_files(files)
                .profile_name(profile)
                .build();
            loader = loader
                .profile_name(profile)
                .credentials_provider(credentials);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader
    }

    pub async fn load(&self) -> SdkConfig {
        self.loader().load().await
    }
}

#[cfg(test)]
mod tests {
    use aws_runtime::env_config::file::EnvConfigFileKind;
    use aws_sdk_dynamodb::config::ProvideCredentials;

    use super::*;

    /// A config loader reading only the file `config`, as `~/.aws/config`
    /// (read when a provider first needs it).
    async fn loaded(args: &AwsArgs, config: &std::path::Path) -> SdkConfig {
        let files = EnvConfigFiles::builder()
            .with_file(EnvConfigFileKind::Config, config)
            .build();
        args.loader_reading(files).load().await
    }

    const CONFIG: &str = "[default]\nregion = us-east-1\n\
        aws_access_key_id = default-key\naws_secret_access_key = x\n\
        [profile sandbox]\nregion = ap-southeast-1\n\
        aws_access_key_id = sandbox-key\naws_secret_access_key = x\n";

    /// (`make test` sets `AWS_ACCESS_KEY_ID` and `AWS_REGION`: the profile's
    /// credentials win over the first, `--region` over the second.)
    #[tokio::test]
    async fn profile_and_region_are_taken_as_the_aws_cli_takes_them() {
        let sandbox = AwsArgs {
            profile: Some("sandbox".into()),
            region: None,
        };
        let dir = std::env::temp_dir().join(format!("tikivip-aws-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config");
        std::fs::write(&file, CONFIG).unwrap();

        let config = loaded(&sandbox, &file).await;
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "sandbox-key");

        // --region wins over the profile's.
        let elsewhere = AwsArgs {
            region: Some("eu-west-3".into()),
            ..sandbox
        };
        let config = loaded(&elsewhere, &file).await;
        assert_eq!(config.region(), Some(&Region::new("eu-west-3")));
        std::fs::remove_dir_all(&dir).ok();
    }
}
