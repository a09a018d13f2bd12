//! `docs/openapi.yaml` held against the code: its routes are the ones the
//! local API serves and the template deploys, a real OpenAPI validator passes
//! it, and its schemas tell a wrong answer from a right one (every answer of
//! the integration suites goes through them: tests/src/openapi.rs).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use tikivip_it::openapi::{answer_errors, document, routes};
use tikivip_it::stack::Running;
use tikivip_signing::HeaderFamily;

/// Served by `make dev` only: the development payment page, standing for the
/// partner's own payment screen (item 7), which is not part of this API.
const DEVELOPMENT_ONLY: &[(&str, &str)] = &[
    ("GET", "/pay/{transaction_id}"),
    ("POST", "/pay/{transaction_id}"),
];

fn set(routes: impl IntoIterator<Item = (String, String)>) -> BTreeSet<(String, String)> {
    routes.into_iter().collect()
}

#[tokio::test]
async fn every_documented_route_is_served_by_make_dev_and_deployed_and_nothing_else() {
    let documented = set(routes());
    assert!(documented.len() >= 6, "{documented:?}");

    let running = Running::start("1").await;
    let served = set(running
        .stack
        .routes(&running.api)
        .unwrap()
        .into_iter()
        .map(|route| (route.method.to_string(), route.path))
        .filter(|(m, p)| !DEVELOPMENT_ONLY.contains(&(m.as_str(), p.as_str()))));
    assert_eq!(documented, served, "docs/openapi.yaml vs the local API");

    let deployed = crate::template::http_api_routes();
    assert_eq!(documented, deployed, "docs/openapi.yaml vs template.yaml");
}

#[test]
fn the_document_passes_the_openapi_validator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let validator = root.join(".venv/bin/openapi-spec-validator");
    assert!(
        validator.exists(),
        "{} is missing: `bash scripts/aws-tools.sh install` (make test does)",
        validator.display()
    );
    let output = Command::new(&validator)
        .arg("docs/openapi.yaml")
        .current_dir(root)
        .output()
        .expect("run openapi-spec-validator");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(document()["openapi"], "3.1.0");
}

#[test]
fn each_route_is_signed_with_the_headers_of_its_family() {
    let schemes = &document()["components"]["securitySchemes"];
    let header = |scheme: &str| {
        schemes[scheme]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("scheme {scheme}"))
            .to_lowercase()
    };
    for (method, path) in routes() {
        let operation = &document()["paths"][&path][method.to_lowercase()];
        let family = match path.as_str() {
            "/v1/ipn" | "/v1/webview" | "/v1/tiniapp/orders/{id}" => HeaderFamily::Partner,
            "/v1/tiniapp/ipn" => HeaderFamily::Tiniapp,
            _ => HeaderFamily::Tikivip,
        };
        let security = operation["security"].as_array().expect("security");
        assert_eq!(security.len(), 1, "{method} {path}: one way to sign");
        let headers: BTreeSet<String> = security[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|scheme| header(scheme))
            .collect();
        let expected: BTreeSet<String> = [
            family.timestamp_header(),
            family.client_id_header(),
            family.signature_header(),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(headers, expected, "{method} {path}");
    }
}

#[test]
fn the_schemas_tell_a_wrong_answer_from_a_right_one() {
    let created = json!({"code": 0, "message": "success", "data": {
        "transaction_id": "T1", "tiki_transaction_id": "tiki-1", "transaction_amount": 99000,
        "status": "PENDING", "payment_url": "https://pay/T1", "created_at": "2026-12-02T10:00:00+07:00"}});
    assert_eq!(
        answer_errors("POST", "/v1/transactions", 200, &created),
        Vec::<String>::new()
    );

    let mut no_url = created.clone();
    no_url["data"]
        .as_object_mut()
        .unwrap()
        .remove("payment_url");
    let mut fraction = created.clone();
    fraction["data"]["transaction_amount"] = json!(99000.5);
    let mut no_offset = created.clone();
    no_offset["data"]["created_at"] = json!("2026-12-02 10:00:00");
    for wrong in [no_url, fraction, no_offset] {
        assert!(
            !answer_errors("POST", "/v1/transactions", 200, &wrong).is_empty(),
            "{wrong}"
        );
    }

    let refused = json!({"code": 3, "message": "transaction not found"});
    assert!(answer_errors("GET", "/v1/transactions/T1", 404, &refused).is_empty());
    for wrong in [
        json!({"code": 0, "message": "success"}),
        json!({"code": 3, "message": "x", "data": {}}),
        json!({"code": 9, "message": "x"}),
        json!({"message": "x"}),
    ] {
        assert!(
            !answer_errors("GET", "/v1/transactions/T1", 404, &wrong).is_empty(),
            "{wrong}"
        );
    }
    // The query is not part of the operation's path.
    assert!(
        answer_errors(
            "GET",
            "/v1/transactions?tiki_transaction_id=t",
            404,
            &refused
        )
        .is_empty()
    );
}
