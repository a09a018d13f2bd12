//! The deployment template (`template.yaml`) held against the code.
//!
//! cfn-lint and `sam validate --lint` (run by `make test`) say the template is
//! valid CloudFormation; these tests say it deploys *this* code: every SPEC route
//! reaches its function, every setting the code reads is set, the table is the
//! one the store creates, the queue's redrive policy is the queue crate's, and
//! values cfn-lint cannot judge (a misspelt runtime, say) are exact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};

// ------------------------------------------------------------------ reading

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The template as JSON, CloudFormation's short-form tags (`!Ref X`,
/// `!GetAtt A.B`, `!Sub …`) turned into their long form.
fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let text = read(&workspace().join("template.yaml"));
        let yaml: serde_norway::Value =
            serde_norway::from_str(&text).expect("template.yaml is YAML");
        long_form(yaml)
    })
}

fn long_form(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).expect("a YAML number is a JSON number"),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(long_form).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other).unwrap().trim().to_owned(),
                    };
                    (key, long_form(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = long_form(tagged.value);
            match (name, value) {
                ("Ref", value) => json!({ "Ref": value }),
                ("Condition", value) => json!({ "Condition": value }),
                ("GetAtt", Value::String(dotted)) => {
                    let (resource, attribute) =
                        dotted.split_once('.').expect("!GetAtt Resource.Attribute");
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                (name, value) => json!({ format!("Fn::{name}"): value }),
            }
        }
    }
}

fn resources() -> &'static serde_json::Map<String, Value> {
    template()["Resources"]
        .as_object()
        .expect("the template has Resources")
}

fn resource(id: &str) -> &'static Value {
    resources()
        .get(id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn of_type(kind: &str) -> BTreeMap<&'static str, &'static Value> {
    resources()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}

fn get_att(id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attribute] })
}

/// The functions, by the binary each is built from.
fn functions() -> BTreeMap<String, (&'static str, &'static Value)> {
    of_type("AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| {
            let binary = f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} names its binary in Metadata.BuildProperties"));
            (binary.to_owned(), (id, f))
        })
        .collect()
}

fn function(binary: &str) -> (&'static str, &'static Value) {
    functions()
        .remove(binary)
        .unwrap_or_else(|| panic!("no function built from {binary}"))
}

/// A property of a function, or of the template's `Globals.Function`.
fn property<'a>(function: &'a Value, name: &str) -> Option<&'a Value> {
    function["Properties"]
        .get(name)
        .or_else(|| template()["Globals"]["Function"].get(name))
}

/// A function's environment, with `Globals` merged in as SAM does.
fn environment(function: &Value) -> BTreeMap<String, Value> {
    let mut vars = BTreeMap::new();
    for source in [&template()["Globals"]["Function"], &function["Properties"]] {
        if let Some(map) = source["Environment"]["Variables"].as_object() {
            vars.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    vars
}

fn as_u64(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{what} is not a whole number: {value}"))
}

/// The function crates: each directory of `functions/` with a binary.
fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(workspace().join("functions"))
        .expect("functions/")
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("src/main.rs").is_file())
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

mod alarms;
mod functions;
mod outputs_and_secrets;
mod permissions;
mod queue;
mod reconciliation;
mod routes;
mod settings;
mod table;
mod tiniapp;

pub(crate) use routes::http_api_routes;
#[allow(unused_imports)]
use {
    alarms::*, functions::*, outputs_and_secrets::*, permissions::*, queue::*, routes::*,
    settings::*, table::*, tiniapp::*,
};
