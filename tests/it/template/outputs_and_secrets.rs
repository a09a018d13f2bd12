//! Outputs and secrets.

use super::*;

#[test]
fn the_outputs_name_what_operators_need() {
    let outputs = template()["Outputs"].as_object().unwrap();
    for name in [
        "ApiUrl",
        "TableName",
        "IpnQueueName",
        "IpnQueueUrl",
        "IpnDeadLetterQueueUrl",
        "AlarmTopicArn",
        "TikiClientSecretArn",
        "PartnerClientSecretArn",
        "TiniAppClientSecretArn",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
    // No secret value is ever a parameter.
    for (name, parameter) in template()["Parameters"].as_object().unwrap() {
        assert!(
            !name.to_lowercase().contains("secret") || name == "SecretsRevision",
            "{name}"
        );
        assert!(parameter["NoEcho"].is_null(), "{name}");
    }
}

/// What the template wires — `NAME_ARN` naming a secret that holds "new,old" —
/// read through Secrets Manager (the emulator `make test` starts).
#[tokio::test]
async fn a_rotating_secret_is_read_from_secrets_manager_newest_first() {
    let config = tikivip_it::emulator_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("it-{}/tiki-client-secret", uuid::Uuid::now_v7().simple());
    let arn = client
        .create_secret()
        .name(&name)
        .secret_string("new-secret, old-secret\n")
        .send()
        .await
        .expect("create the secret")
        .arn
        .expect("its ARN");

    let env = |var: &str| (var == "TIKIVIP_CLIENT_SECRET_ARN").then(|| arn.clone());
    let secrets = tikivip_api::load_secrets(&config, "TIKIVIP_CLIENT_SECRET", env)
        .await
        .expect("load the secret");
    assert_eq!(
        secrets,
        [
            tikivip_signing::Secret::new("new-secret"),
            tikivip_signing::Secret::new("old-secret"),
        ]
    );

    let missing = tikivip_api::load_secrets(&config, "TIKIVIP_CLIENT_SECRET", |var: &str| {
        (var == "TIKIVIP_CLIENT_SECRET_ARN").then(|| format!("{arn}-gone"))
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(missing.contains("reading secret"), "{missing}");
}

#[test]
fn every_alert_metric_the_functions_publish_has_an_alarm() {
    use tikivip_api::metrics::{Metric, NAMESPACE};
    for metric in [
        Metric::IpnUnpaidSuccess,
        Metric::IpnStatusMismatch,
        Metric::OutboxOldestAgeSeconds,
        Metric::OutboxReleaseFailures,
        Metric::HandlerPanics,
    ] {
        let alarmed = of_type("AWS::CloudWatch::Alarm").values().any(|a| {
            a["Properties"]["MetricName"] == metric.name()
                && a["Properties"]["Namespace"] == NAMESPACE
                && a["Properties"]["Dimensions"].is_null()
        });
        assert!(alarmed, "no alarm on {}", metric.name());
    }
}
