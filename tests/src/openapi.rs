//! `docs/openapi.yaml`, as the tests hold the code to it: each answer an
//! integration test receives is validated against the schema the document
//! gives for its operation and status ([`check_answer`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

/// The document, as JSON.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_norway::from_str(&text).expect("docs/openapi.yaml is YAML")
    })
}

/// The operations the document describes: (`METHOD`, path template).
pub fn routes() -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (path, item) in document()["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes.sort();
    routes
}

/// Whether `path` fits the template `/v1/transactions/{transaction_id}`.
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && t.ends_with('}') => {
                if p.is_empty() {
                    return false;
                }
            }
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

/// Follows a local `$ref` (`#/components/…`) of the document.
fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => document()
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("docs/openapi.yaml: no {pointer}")),
        None => value,
    }
}

/// The schema of the answer to `method path` with `status`: the operation's
/// response for the status, else its `default`; a request no operation
/// serves must be answered with a failure envelope.
fn answer_schema(method: &str, path: &str, status: u16) -> (String, Value) {
    let operation = document()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(template, item)| fits(template, path) && item.get(method).is_some())
        .map(|(template, item)| (template.clone(), &item[method]));
    let Some((template, operation)) = operation else {
        let failure = json!({ "$ref": "#/components/schemas/Failure" });
        return (format!("(no operation) {status}"), failure);
    };
    let responses = &operation["responses"];
    let (key, response) = match responses.get(status.to_string()) {
        Some(response) => (status.to_string(), response),
        None => (
            "default".to_owned(),
            responses
                .get("default")
                .unwrap_or_else(|| panic!("{method} {template}: no response for {status}")),
        ),
    };
    let schema = resolve(response)["content"]["application/json"]["schema"].clone();
    assert!(
        !schema.is_null(),
        "{method} {template} {key}: no application/json schema"
    );
    (
        format!("{} {template} {key}", method.to_uppercase()),
        schema,
    )
}

type Validators = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

/// Why `body` is not a valid answer to `method path_and_query` with
/// `status`; empty when it is.
pub fn answer_errors(method: &str, path_and_query: &str, status: u16, body: &Value) -> Vec<String> {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    let method = method.to_lowercase();
    let path = path_and_query.split('?').next().unwrap_or_default();
    let (operation, schema) = answer_schema(&method, path, status);
    let validator = {
        let mut cache = VALIDATORS.get_or_init(Default::default).lock().unwrap();
        cache
            .entry(operation.clone())
            .or_insert_with(|| {
                // The operation's schema at the root, the document's
                // components beside it so that its `$ref`s resolve.
                let mut root = schema;
                root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
                root["components"] = document()["components"].clone();
                Arc::new(
                    jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .should_validate_formats(true)
                        .build(&root)
                        .unwrap_or_else(|e| panic!("{operation}: not a schema: {e}")),
                )
            })
            .clone()
    };
    validator
        .iter_errors(body)
        .map(|error| format!("{operation}: {error} at {}", error.instance_path()))
        .collect()
}

/// Panics unless `body` is what the document says `method path_and_query`
/// answers with `status`.
pub fn check_answer(method: &str, path_and_query: &str, status: u16, body: &Value) {
    let errors = answer_errors(method, path_and_query, status, body);
    assert!(
        errors.is_empty(),
        "the answer to {method} {path_and_query} ({status}) is not as docs/openapi.yaml says:\n{}\n{body}",
        errors.join("\n")
    );
}
