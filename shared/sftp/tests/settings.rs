//! The settings, read from JSON: complete, usable, and never printing the
//! private key.

use std::time::Duration;

use serde_json::{Value, json};
use tikivip_sftp::test_support::generate_key;
use tikivip_sftp::{Error, SftpSettings};

fn complete() -> Value {
    json!({
        "host": "sftp.tiki.vn",
        "port": 22,
        "user": "tikivip",
        "private_key": generate_key().private_key,
        "host_key": generate_key().public_key,
        "timeout_seconds": 5,
    })
}

fn config_error(json: &Value) -> String {
    match SftpSettings::from_json(&json.to_string()) {
        Err(Error::Config(message)) => message,
        other => panic!("expected a Config error for {json}, got {other:?}"),
    }
}

#[test]
fn settings_read_every_field() {
    let json = complete();
    let settings = SftpSettings::from_json(&json.to_string()).unwrap();
    assert_eq!(settings.host, "sftp.tiki.vn");
    assert_eq!(settings.port, 22);
    assert_eq!(settings.user, "tikivip");
    assert_eq!(settings.private_key, json["private_key"].as_str().unwrap());
    assert_eq!(settings.host_key, json["host_key"].as_str().unwrap());
    assert_eq!(settings.timeout, Duration::from_secs(5));

    let mut without_timeout = complete();
    without_timeout
        .as_object_mut()
        .unwrap()
        .remove("timeout_seconds");
    let settings = SftpSettings::from_json(&without_timeout.to_string()).unwrap();
    assert_eq!(settings.timeout, Duration::from_secs(30));
}

#[test]
fn settings_refuse_missing_fields() {
    for field in ["host", "port", "user", "private_key", "host_key"] {
        let mut json = complete();
        json.as_object_mut().unwrap().remove(field);
        let message = config_error(&json);
        assert!(
            message.contains(&format!("missing field `{field}`")),
            "{field}: {message}"
        );
    }
}

#[test]
fn settings_refuse_unusable_values() {
    let rsa = {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsa");
        let status = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(path.with_extension("pub")).unwrap()
    };
    let cases = [
        ("host", json!(""), "host is empty"),
        ("port", json!(0), "port is 0"),
        ("port", json!("22"), "port: invalid type"),
        ("port", json!(70000), "port: invalid value"),
        ("user", json!(" "), "user is empty"),
        ("timeout_seconds", json!(0), "timeout_seconds is 0"),
        ("private_key", json!("not a key"), "private_key:"),
        ("host_key", json!("ssh-ed25519 not-base64!"), "host_key:"),
        (
            "host_key",
            json!(rsa),
            "host_key: ssh-rsa keys are not supported",
        ),
    ];
    for (field, value, expected) in cases {
        let mut json = complete();
        json[field] = value.clone();
        let message = config_error(&json);
        assert!(
            message.contains(expected),
            "{field} = {value}: {message:?} does not say {expected:?}"
        );
    }
    assert!(matches!(
        SftpSettings::from_json("not json"),
        Err(Error::Config(_))
    ));
}

#[test]
fn settings_debug_hides_the_private_key() {
    let json = complete();
    let settings = SftpSettings::from_json(&json.to_string()).unwrap();
    let debug = format!("{settings:?}");
    let key = json["private_key"].as_str().unwrap();
    // No line of the key's body, nor its armour.
    for line in key.lines() {
        assert!(!debug.contains(line), "{debug}");
    }
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("sftp.tiki.vn"), "{debug}");
}
