//! The reconciliation job's resources: its schedule in Vietnam's time, the
//! archive bucket, Tiki's SFTP secret, and nothing more than it needs.

use super::*;

#[test]
fn reconciliation_runs_every_morning_in_vietnams_time_for_the_day_before() {
    let schedule = resource("ReconciliationDailySchedule");
    assert_eq!(schedule["Type"], "AWS::Scheduler::Schedule");
    let props = &schedule["Properties"];
    assert_eq!(props["ScheduleExpressionTimezone"], "Asia/Ho_Chi_Minh");
    assert_eq!(
        props["ScheduleExpression"],
        reference("ReconciliationSchedule")
    );
    assert_eq!(
        template()["Parameters"]["ReconciliationSchedule"]["Default"],
        "cron(0 6 * * ? *)",
        "06:00 by default"
    );
    let (id, _) = function("reconciliation");
    assert_eq!(props["Target"]["Arn"], get_att(id, "Arn"));
    // `{}`: the function takes the day before the run.
    assert_eq!(props["Target"]["Input"], "{}");
    assert!(
        as_u64(
            &props["Target"]["RetryPolicy"]["MaximumRetryAttempts"],
            "retries"
        ) > 0
    );
}

#[test]
fn the_archive_bucket_is_private_versioned_and_kept() {
    let bucket = resource("ArchiveBucket");
    assert_eq!(bucket["Type"], "AWS::S3::Bucket");
    assert_eq!(bucket["DeletionPolicy"], "Retain");
    let props = &bucket["Properties"];
    assert_eq!(props["VersioningConfiguration"]["Status"], "Enabled");
    for block in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            props["PublicAccessBlockConfiguration"][block], true,
            "{block}"
        );
    }
    let (_, f) = function("reconciliation");
    assert_eq!(environment(f)["ARCHIVE_BUCKET"], reference("ArchiveBucket"));
}

#[test]
fn the_job_may_read_and_write_only_its_own_prefix_of_the_archive() {
    let (id, f) = function("reconciliation");
    let mut object_actions = BTreeSet::new();
    for statement in role_statements(f) {
        let acts = actions(statement);
        if acts
            .iter()
            .any(|a| a.starts_with("s3:") && a != "s3:ListBucket")
        {
            for r in resources_of(statement) {
                assert_eq!(
                    r,
                    json!({ "Fn::Sub": "${ArchiveBucket.Arn}/reconciliation/*" }),
                    "{id}"
                );
            }
            object_actions.extend(acts);
        }
    }
    assert_eq!(
        object_actions,
        ["s3:GetObject", "s3:PutObject"].map(String::from).into(),
        "no delete: an archived file is never removed by the job"
    );
}

#[test]
fn tikis_sftp_server_comes_from_a_secret_and_its_folders_from_parameters() {
    let (id, f) = function("reconciliation");
    let env = environment(f);
    assert_eq!(env["TIKI_SFTP_ARN"], reference("TikiSftpSecret"), "{id}");
    assert_eq!(env["TIKI_SFTP_INBOUND"], reference("TikiSftpInbound"));
    assert_eq!(env["TIKI_SFTP_OUTBOUND"], reference("TikiSftpOutbound"));
    let parameters = &template()["Parameters"];
    assert_eq!(
        parameters["TikiSftpInbound"]["Default"],
        "/IF_TIKI_VIP/INBOUND"
    );
    assert_eq!(
        parameters["TikiSftpOutbound"]["Default"],
        "/IF_TIKI_VIP/OUTBOUND"
    );
    assert_eq!(
        env["RECONCILIATION_PARTNER_NAME"],
        reference("ReconciliationPartnerName")
    );
}

#[test]
fn a_mismatch_and_a_failed_run_each_raise_an_alarm() {
    let mismatch = &resource("ReconciliationMismatchAlarm")["Properties"];
    assert_eq!(mismatch["MetricName"], "ReconciliationMismatches");
    assert_eq!(mismatch["Namespace"], tikivip_api::metrics::NAMESPACE);
    let (id, _) = function("reconciliation");
    let errors = &resource("ReconciliationErrorsAlarm")["Properties"];
    assert_eq!(errors["MetricName"], "Errors");
    assert_eq!(errors["Dimensions"][0]["Value"], reference(id));
}
