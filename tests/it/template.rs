//! The deployment template (`template.yaml`) held against the code.
//!
//! cfn-lint and `sam validate --lint` (run by `make test`) say the template is
//! valid CloudFormation; these tests say it deploys *this* code: every SPEC route
//! reaches its function, every setting the code reads is set, the table is the
//! one the store creates, the queue's redrive policy is the queue crate's, and
//! values cfn-lint cannot judge (a misspelt runtime, say) are exact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use tikivip_store::schema;

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

// ------------------------------------------------------------------ functions

#[test]
fn every_function_crate_is_deployed_and_built_by_cargo_lambda_from_the_workspace() {
    let deployed: BTreeSet<String> = functions().into_keys().collect();
    assert_eq!(
        deployed,
        function_crates(),
        "template functions vs functions/*"
    );
    for (binary, (id, f)) in functions() {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        // The workspace root: one target directory for every function.
        assert_eq!(property(f, "CodeUri"), Some(&json!(".")), "{id} ({binary})");
    }
}

#[test]
fn runtime_architecture_and_handler_are_exact_everywhere() {
    // cfn-lint accepts any string here; Lambda would fail only at deploy time.
    for (binary, (id, f)) in functions() {
        assert_eq!(
            property(f, "Runtime"),
            Some(&json!("provided.al2023")),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Architectures"),
            Some(&json!(["arm64"])),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Handler"),
            Some(&json!("bootstrap")),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "Tracing"),
            Some(&json!("Active")),
            "{id} ({binary})"
        );
        assert_eq!(
            property(f, "MemorySize"),
            Some(&json!(128)),
            "{id} ({binary})"
        );
        let timeout = as_u64(property(f, "Timeout").expect("a timeout"), "Timeout");
        assert!(
            (1..=60).contains(&timeout),
            "{id}: a small timeout, not {timeout} s"
        );
    }
}

// ------------------------------------------------------------------ routes

/// SPEC Part 2's endpoints, and the binary that serves each.
const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/v1/transactions", "create-transaction"),
    (
        "GET",
        "/v1/transactions/{transaction_id}",
        "get-transaction",
    ),
    ("GET", "/v1/transactions", "get-transaction"),
    ("POST", "/v1/refunds", "refund"),
    ("POST", "/v1/ipn", "ipn-receiver"),
    ("POST", "/v1/webview", "webview"),
    ("POST", "/v1/tiniapp/ipn", "tiniapp-ipn"),
    ("GET", "/v1/tiniapp/orders/{id}", "tiniapp-order"),
];

/// Every (`METHOD`, path) the HTTP API routes to a function.
pub(crate) fn http_api_routes() -> BTreeSet<(String, String)> {
    functions()
        .values()
        .filter_map(|(_, f)| f["Properties"]["Events"].as_object())
        .flat_map(|events| events.values())
        .filter(|event| event["Type"] == "HttpApi")
        .map(|event| {
            let p = &event["Properties"];
            (
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_spec_route_reaches_its_function_through_the_http_api() {
    let mut routed = BTreeMap::new();
    for (binary, (id, f)) in functions() {
        let Some(events) = f["Properties"]["Events"].as_object() else {
            continue;
        };
        for (name, event) in events.iter().filter(|(_, e)| e["Type"] == "HttpApi") {
            let p = &event["Properties"];
            assert_eq!(p["ApiId"], reference("HttpApi"), "{id}.{name}");
            // lambda_http is built for API Gateway's payload format 2.0 only.
            assert_eq!(p["PayloadFormatVersion"], "2.0", "{id}.{name}");
            let route = (
                p["Method"].as_str().unwrap().to_uppercase(),
                p["Path"].as_str().unwrap().to_owned(),
            );
            assert!(
                routed.insert(route.clone(), binary.clone()).is_none(),
                "{route:?} routed twice"
            );
        }
    }
    let expected: BTreeMap<_, _> = ROUTES
        .iter()
        .map(|(m, p, b)| (((*m).to_owned(), (*p).to_owned()), (*b).to_owned()))
        .collect();
    assert_eq!(routed, expected);

    // The `$default` stage: no stage prefix in the path the function sees,
    // which is the path the caller signed.
    let api = resource("HttpApi");
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let stage = &api["Properties"]["StageName"];
    assert!(stage.is_null() || *stage == "$default", "StageName {stage}");
}

// ------------------------------------------------------------------ settings

/// The functions (and closures) that read settings: a call of one with string
/// literals reads those (`keys_from_env(&aws, "ID", "SECRET")` reads both, and
/// its last is a secret setting).
const READERS: &[&str] = &[
    "env::var",
    "env::var_os",
    "env_setting",
    "required_env",
    "required",
    "url",
    "keys_from_env",
    "keys_and_store",
    "verifier_and_store",
    "refresh_keys",
];

/// Settings the code reads only to override a default.
const OPTIONAL: &[&str] = &[
    "IPN_RETRY_DELAYS_SECONDS",
    "OUTBOX_GRACE_SECONDS",
    "TINIAPP_RETRY_DELAYS_SECONDS",
    "TIKI_TIMEOUT_MS",
    "IPN_MAX_HIDE_SECONDS",
    "SECRETS_REFRESH_SECONDS",
    // Only for a local stand-in of Tiki; never set in AWS (Stage picks the URL).
    "TIKI_BASE_URL",
    // A custom domain's base path; empty without one (shared/api run()).
    "API_BASE_PATH",
];

/// Settings a dependency reads in a constructor the function never calls,
/// which this crate-wide scan cannot tell: the Tini App functions build their
/// queue with `IpnQueue::connect`, never `IpnQueue::from_env`.
const READ_BY_UNCALLED_CONSTRUCTORS: &[(&str, &[&str])] = &[
    (
        "tiniapp-ipn",
        &["IPN_QUEUE_URL", "IPN_DEAD_LETTER_QUEUE_URL"],
    ),
    (
        "tiniapp-processor",
        &["IPN_QUEUE_URL", "IPN_DEAD_LETTER_QUEUE_URL"],
    ),
];

/// Set by Lambda itself in every function (its reserved variables); a
/// template may not set them.
const SET_BY_LAMBDA: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Set by the template but read by libraries (RUST_LOG: the log filter) or by
/// nothing (SECRETS_REVISION: changing it restarts the functions).
const NOT_READ_BY_OUR_CODE: &[&str] = &["RUST_LOG", "SECRETS_REVISION"];

#[derive(Debug, Default)]
struct Settings {
    all: BTreeSet<String>,
    secrets: BTreeSet<String>,
}

/// The workspace crates a crate depends on (normal dependencies), by path.
fn workspace_paths() -> BTreeMap<String, PathBuf> {
    let root = read(&workspace().join("Cargo.toml"));
    root.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(" = ")?;
            let path = rest.split("path = \"").nth(1)?.split('"').next()?;
            Some((name.trim().to_owned(), workspace().join(path)))
        })
        .collect()
}

fn local_dependencies(crate_dir: &Path) -> BTreeSet<String> {
    let manifest = read(&crate_dir.join("Cargo.toml"));
    let mut section = "";
    let mut deps = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[dependencies]" {
            let name = line.split(['.', ' ', '=']).next().unwrap_or("");
            if name.starts_with("tikivip-") {
                deps.insert(name.to_owned());
            }
        }
    }
    deps
}

/// A crate's own sources and those of the workspace crates it depends on.
fn sources_of(crate_dir: &Path) -> Vec<(PathBuf, String)> {
    let paths = workspace_paths();
    let mut dirs = vec![crate_dir.to_owned()];
    let mut seen = BTreeSet::new();
    let mut sources = Vec::new();
    while let Some(dir) = dirs.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        for dep in local_dependencies(&dir) {
            dirs.push(
                paths
                    .get(&dep)
                    .unwrap_or_else(|| panic!("{dep}'s path"))
                    .clone(),
            );
        }
        let mut stack = vec![dir.join("src")];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = read(&path);
                // Unit tests set whatever they like.
                let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
                sources.push((path, code));
            }
        }
    }
    sources
}

/// The string-literal arguments of the call of `reader` at `at`: `("A")`,
/// `("A", "B")`, `(&aws, "A", "B")`; `None` if no call follows `reader`.
fn literal_arguments(code: &str, at: usize, reader: &str) -> Option<Vec<String>> {
    let mut rest = code[at + reader.len()..].trim_start().strip_prefix('(')?;
    let mut literals = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after_quote) = rest.strip_prefix('"') {
            let (literal, after) = after_quote.split_once('"')?;
            literals.push(literal.to_owned());
            rest = after;
        } else {
            // Another kind of argument (`&aws`): up to the next `,` or `)`.
            let end = rest.find([',', ')'])?;
            rest = &rest[end..];
        }
        match rest.trim_start().strip_prefix(',') {
            Some(next) => rest = next,
            None => return Some(literals),
        }
    }
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_setting_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The function or closure whose body holds `at`: the nearest `fn NAME` or
/// `let NAME = |` before it.
fn enclosing(code: &str, at: usize) -> String {
    let before = &code[..at];
    let candidates = [before.rfind("fn "), before.rfind("let ")];
    let start = candidates
        .into_iter()
        .flatten()
        .max()
        .expect("inside a function");
    before[start..]
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
        .split(['(', '<', ':'])
        .next()
        .unwrap()
        .to_owned()
}

/// The settings a function's code reads, by a scan of its sources and of the
/// workspace crates it depends on.
fn settings_read_by(binary: &str) -> Settings {
    let mut settings = Settings::default();
    for (path, code) in sources_of(&workspace().join("functions").join(binary)) {
        for reader in READERS {
            for (at, _) in code.match_indices(reader) {
                // Whole words only: `url(` is not `base_url(`.
                let start_ok = at == 0 || !is_identifier_byte(code.as_bytes()[at - 1]);
                let end = at + reader.len();
                let end_ok = end == code.len() || !is_identifier_byte(code.as_bytes()[end]);
                if !start_ok || !end_ok {
                    continue;
                }
                let Some(literals) = literal_arguments(&code, at, reader) else {
                    continue; // not a call
                };
                if literals.is_empty() {
                    // A setting named by a variable: only readers may do that,
                    // so that every name is spelt out at a call of one.
                    if reader.starts_with("env::") {
                        let within = enclosing(&code, at);
                        assert!(
                            READERS.contains(&within.as_str()),
                            "{}: `{reader}` of a computed name inside `{within}`, \
                             which this test does not know as a reader; add it to READERS",
                            path.display()
                        );
                    }
                    continue;
                }
                let names: Vec<String> = literals
                    .into_iter()
                    .filter(|l| is_setting_name(l))
                    .collect();
                if matches!(
                    *reader,
                    "keys_from_env" | "keys_and_store" | "verifier_and_store"
                ) {
                    settings.secrets.extend(names.last().cloned());
                }
                settings.all.extend(names);
            }
        }
    }
    settings
}

#[test]
fn every_setting_the_code_reads_is_set_and_nothing_else() {
    let secret_resources: BTreeSet<&str> =
        of_type("AWS::SecretsManager::Secret").into_keys().collect();
    for (binary, (id, f)) in functions() {
        let read = settings_read_by(&binary);
        // The scan itself works: every function reads the table's name.
        assert!(
            read.all.contains("TABLE_NAME"),
            "{binary}: scan found {read:?}"
        );
        let env = environment(f);

        let uncalled = READ_BY_UNCALLED_CONSTRUCTORS
            .iter()
            .find(|(b, _)| *b == binary)
            .map_or(&[][..], |(_, names)| names);
        for name in &read.all {
            if OPTIONAL.contains(&name.as_str())
                || SET_BY_LAMBDA.contains(&name.as_str())
                || uncalled.contains(&name.as_str())
            {
                continue;
            }
            if read.secrets.contains(name) {
                let arn_var = format!("{name}{}", tikivip_api::ARN_SUFFIX);
                assert!(
                    env.contains_key(&arn_var),
                    "{id} ({binary}) needs {arn_var}"
                );
                assert!(
                    !env.contains_key(name),
                    "{id} ({binary}): a secret is never a plain variable: {name}"
                );
                let secret = env[&arn_var]["Ref"].as_str().unwrap_or_default();
                assert!(
                    secret_resources.contains(secret),
                    "{id}: {arn_var} must be !Ref to a secret of the stack, not {}",
                    env[&arn_var]
                );
            } else {
                assert!(
                    env.contains_key(name),
                    "{id} ({binary}) reads {name}; the template does not set it"
                );
            }
        }
        for name in env.keys() {
            let known = read.all.contains(name)
                || NOT_READ_BY_OUR_CODE.contains(&name.as_str())
                || name
                    .strip_suffix(tikivip_api::ARN_SUFFIX)
                    .is_some_and(|secret| read.secrets.contains(secret));
            assert!(
                known,
                "{id} ({binary}) sets {name}, which its code never reads (a typo?)"
            );
        }
        assert!(
            !env.contains_key("TIKI_BASE_URL"),
            "{id}: Stage alone picks Tiki's URL"
        );
        for name in SET_BY_LAMBDA {
            assert!(!env.contains_key(*name), "{id}: Lambda reserves {name}");
        }
    }
}

#[test]
fn every_http_function_takes_the_custom_domains_base_path_off() {
    let parameter = &template()["Parameters"]["ApiBasePath"];
    assert_eq!(parameter["Default"], "");
    for (binary, (id, f)) in functions() {
        let http = f["Properties"]["Events"]
            .as_object()
            .is_some_and(|events| events.values().any(|e| e["Type"] == "HttpApi"));
        if http {
            assert_eq!(
                environment(f).get("API_BASE_PATH"),
                Some(&reference("ApiBasePath")),
                "{id} ({binary})"
            );
        }
    }
    // The parameter's pattern admits what BasePath parses, and no more.
    for ok in ["", "/tikivip", "/a/b-c"] {
        assert!(tikivip_api::BasePath::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn the_dispatcher_talks_to_the_tiki_of_the_stage() {
    let (id, f) = function("ipn-dispatcher");
    assert_eq!(
        environment(f)["TIKI_ENVIRONMENT"],
        reference("Stage"),
        "{id}"
    );
    let stage = &template()["Parameters"]["Stage"];
    let allowed: Vec<&str> = stage["AllowedValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["sandbox", "production"]);
    for value in allowed {
        let env = tikivip_tiki_client::TikiEnvironment::from_settings(Some(value), None)
            .unwrap_or_else(|e| panic!("Stage={value}: {e}"));
        assert!(
            env.base_url().starts_with("https://"),
            "Stage={value} must be one of Tiki's own bases"
        );
    }
}

// ------------------------------------------------------------------ table

#[test]
fn the_table_is_the_one_the_store_creates() {
    let tables = of_type("AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let (id, table) = tables.into_iter().next().unwrap();
    let p = &table["Properties"];
    let key = |name: &str, kind: &str| json!({ "AttributeName": name, "KeyType": kind });
    let string = |name: &str| json!({ "AttributeName": name, "AttributeType": "S" });

    assert_eq!(
        p["KeySchema"],
        json!([
            key(schema::PARTITION_KEY, "HASH"),
            key(schema::SORT_KEY, "RANGE")
        ])
    );
    let mut attributes: Vec<Value> = p["AttributeDefinitions"].as_array().unwrap().clone();
    attributes.sort_by_key(|a| a["AttributeName"].as_str().unwrap().to_owned());
    let mut expected = vec![
        string(schema::PARTITION_KEY),
        string(schema::SORT_KEY),
        string(schema::ATTENTION_KEY),
        string(schema::ATTENTION_SORT_KEY),
    ];
    expected.sort_by_key(|a| a["AttributeName"].as_str().unwrap().to_owned());
    assert_eq!(attributes, expected);
    assert_eq!(
        p["GlobalSecondaryIndexes"],
        json!([{
            "IndexName": schema::ATTENTION_INDEX,
            "KeySchema": [key(schema::ATTENTION_KEY, "HASH"), key(schema::ATTENTION_SORT_KEY, "RANGE")],
            "Projection": { "ProjectionType": "INCLUDE", "NonKeyAttributes": [schema::ATTENTION_PROJECTED] },
        }])
    );
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(table["DeletionPolicy"], "Retain", "{id}");
    assert!(p["TimeToLiveSpecification"].is_null(), "nothing expires");

    // The sweeper queries the index by the name in the schema.
    let index_arn =
        json!({ "Fn::Sub": format!("${{{id}.Arn}}/index/{}", schema::ATTENTION_INDEX) });
    let statements = role_statements(function("ipn-outbox-sweeper").1);
    assert!(
        statements
            .iter()
            .any(|s| actions(s).contains("dynamodb:Query") && resources_of(s).contains(&index_arn)),
        "the sweeper may query {index_arn}"
    );
}

// ------------------------------------------------------------------ queue

#[test]
fn the_ipn_queue_has_the_queue_crates_redrive_policy() {
    let queue = &resource("IpnQueue")["Properties"];
    let dead = &resource("IpnDeadLetterQueue")["Properties"];
    assert_eq!(
        queue["RedrivePolicy"],
        json!({
            "deadLetterTargetArn": get_att("IpnDeadLetterQueue", "Arn"),
            "maxReceiveCount": tikivip_queue::MAX_RECEIVE_COUNT,
        })
    );
    // `IpnQueue::named` finds the dead-letter queue as NAME-dead-letter.
    let name = queue["QueueName"]["Fn::Sub"]
        .as_str()
        .expect("QueueName: !Sub …");
    assert_eq!(dead["QueueName"]["Fn::Sub"], format!("{name}-dead-letter"));

    // Kept long enough for the whole default schedule, at its longest (jitter
    // +10%), plus a last visibility hop.
    const FOURTEEN_DAYS: u64 = 14 * 24 * 3600;
    assert_eq!(
        as_u64(&queue["MessageRetentionPeriod"], "retention"),
        FOURTEEN_DAYS
    );
    assert_eq!(
        as_u64(&dead["MessageRetentionPeriod"], "retention"),
        FOURTEEN_DAYS
    );
    let schedule = tikivip_domain::RetrySchedule::default();
    let span: Duration = schedule.longest() + tikivip_queue::MAX_HIDE;
    assert!(
        span.as_secs() < FOURTEEN_DAYS,
        "the schedule spans {span:?}"
    );
    // Delays beyond one receive's hide are hidden again at the next receive;
    // SQS must not dead-letter a pending job for receiving it that often.
    let receives = schedule.receives_needed(tikivip_queue::MAX_HIDE);
    assert!(
        receives < tikivip_queue::MAX_RECEIVE_COUNT,
        "{receives} receives per job, maxReceiveCount {}",
        tikivip_queue::MAX_RECEIVE_COUNT
    );

    // Lambda's advice for an SQS source: visibility ≥ 6 × the function's timeout;
    // and the timeout allows the two calls to Tiki an attempt may make.
    let (id, dispatcher) = function("ipn-dispatcher");
    let timeout = as_u64(property(dispatcher, "Timeout").unwrap(), "Timeout");
    let visibility = as_u64(&queue["VisibilityTimeout"], "VisibilityTimeout");
    assert!(
        visibility >= 6 * timeout,
        "visibility {visibility} s < 6 × {timeout} s"
    );
    // SQS's 12 h window counts from the receive; the dispatcher hides from
    // when it runs. The margin between the two covers Lambda's batching
    // window (at most 5 min) and the function's whole run.
    let margin = tikivip_queue::VISIBILITY_WINDOW - tikivip_queue::MAX_HIDE;
    assert!(
        margin.as_secs() >= 300 + timeout,
        "{margin:?} of margin for a 5 min batching window and a {timeout} s run"
    );
    let tiki_ms = as_u64(
        &environment(dispatcher)["TIKI_TIMEOUT_MS"],
        "TIKI_TIMEOUT_MS",
    );
    assert!(
        2 * tiki_ms + 5_000 <= timeout * 1_000,
        "{id}: {timeout} s for 2 × {tiki_ms} ms"
    );
}

#[test]
fn the_dispatcher_reports_batch_item_failures_at_bounded_concurrency() {
    let (id, f) = function("ipn-dispatcher");
    let sqs: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS")
        .collect();
    assert_eq!(sqs.len(), 1, "{id} has one SQS source");
    let p = &sqs[0]["Properties"];
    assert_eq!(p["Queue"], get_att("IpnQueue", "Arn"));
    assert_eq!(
        p["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(p["BatchSize"], 10);
    let concurrency = &p["ScalingConfig"]["MaximumConcurrency"];
    let bounds = match concurrency["Ref"].as_str() {
        Some(parameter) => {
            let p = &template()["Parameters"][parameter];
            let bound = |k: &str| as_u64(&p[k], k);
            (bound("MinValue"), bound("MaxValue"), bound("Default"))
        }
        None => {
            let n = as_u64(concurrency, "MaximumConcurrency");
            (n, n, n)
        }
    };
    let (min, max, default) = bounds;
    assert!(
        2 <= min && max <= 5 && (min..=max).contains(&default),
        "{bounds:?}"
    );
    // Nothing else consumes the queue.
    for (binary, (other, f)) in functions() {
        if other != id {
            let events = f["Properties"]["Events"].as_object();
            assert!(
                events.is_none_or(|e| e
                    .values()
                    .all(|e| e["Properties"]["Queue"] != get_att("IpnQueue", "Arn"))),
                "{binary} must not consume the IPN queue"
            );
        }
    }
}

#[test]
fn the_sweeper_runs_every_minute() {
    let (id, f) = function("ipn-outbox-sweeper");
    let schedules: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "Schedule")
        .collect();
    assert_eq!(schedules.len(), 1, "{id}");
    assert_eq!(schedules[0]["Properties"]["Schedule"], "rate(1 minute)");
}

// ------------------------------------------------------------------ permissions

fn role_statements(function: &Value) -> Vec<&'static Value> {
    let role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        .as_str()
        .expect("Role: !GetAtt SomeRole.Arn");
    resource(role)["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect()
}

fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn actions(statement: &Value) -> BTreeSet<String> {
    one_or_many(&statement["Action"])
        .into_iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn resources_of(statement: &Value) -> Vec<Value> {
    one_or_many(&statement["Resource"])
}

/// The DynamoDB calls the store makes (writes inside TransactWriteItems are
/// authorised as PutItem and UpdateItem).
const DYNAMODB_CALLS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "Query",
    "ConditionCheckItem",
];

#[test]
fn each_function_has_its_own_least_privilege_role() {
    let mut roles = BTreeSet::new();
    for (binary, (id, f)) in functions() {
        let role = f["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .expect("a role of the stack");
        assert!(roles.insert(role), "{role} is shared");
        assert!(
            f["Properties"]["Policies"].is_null(),
            "{id}: its role says it all"
        );
        let env = environment(f);
        let mut granted = BTreeSet::new();
        for statement in role_statements(f) {
            assert_eq!(statement["Effect"], "Allow");
            let acts = actions(statement);
            for action in &acts {
                assert!(!action.contains('*'), "{id}: wildcard action {action}");
                if let Some(call) = action.strip_prefix("dynamodb:") {
                    assert!(
                        DYNAMODB_CALLS.contains(&call),
                        "{id}: {action} is not a call the store makes"
                    );
                }
            }
            for r in resources_of(statement) {
                if r == "*" {
                    assert!(
                        acts.iter().all(|a| a.starts_with("xray:")),
                        "{id}: {acts:?} on *"
                    );
                }
            }
            if acts.contains("secretsmanager:GetSecretValue") {
                granted.extend(resources_of(statement).iter().map(Value::to_string));
            }
        }
        let secrets_used: BTreeSet<String> = env
            .iter()
            .filter(|(k, _)| k.ends_with(tikivip_api::ARN_SUFFIX))
            .map(|(_, v)| v.to_string())
            .collect();
        assert_eq!(
            granted, secrets_used,
            "{id} ({binary}) reads exactly its own secrets"
        );
    }
}

// ------------------------------------------------------------------ alarms

#[test]
fn the_alarms_watch_the_dead_letter_queue_the_queue_and_every_function() {
    let alarms = of_type("AWS::CloudWatch::Alarm");
    for (id, alarm) in &alarms {
        assert!(
            one_or_many(&alarm["Properties"]["AlarmActions"]).contains(&reference("AlarmTopic")),
            "{id} notifies the topic"
        );
    }
    let watching = |metric: &str, dimension: Value| {
        alarms.values().any(|a| {
            a["Properties"]["MetricName"] == metric
                && one_or_many(&a["Properties"]["Dimensions"])
                    .iter()
                    .any(|d| d["Value"] == dimension)
        })
    };
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        get_att("IpnDeadLetterQueue", "QueueName")
    ));
    assert!(watching(
        "ApproximateAgeOfOldestMessage",
        get_att("IpnQueue", "QueueName")
    ));
    for (binary, (id, _)) in functions() {
        assert!(
            watching("Errors", reference(id)),
            "no Errors alarm for {binary}"
        );
    }
    let api_5xx = alarms.values().any(|a| {
        a["Properties"]["Metrics"]
            .as_array()
            .is_some_and(|metrics| {
                metrics.iter().any(|m| {
                    m["MetricStat"]["Metric"]["MetricName"] == "5xx"
                        && m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
                            == reference("HttpApi")
                })
            })
    });
    assert!(api_5xx, "an alarm on the API's 5xx rate");
}

const LOG_CHILD: &str = "TIKIVIP_TEMPLATE_TEST_LOG_CHILD";
const REFUND_REQUIRED_MESSAGE: &str = "Tiki will not honour this payment: refund the customer";

/// The metric filter's JSON path and value: `{ $.a.b = "v" }`.
fn json_filter(pattern: &str) -> (Vec<String>, String) {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .expect("{ … }");
    let (path, value) = inner.split_once('=').expect("a = comparison");
    let path = path.trim().strip_prefix("$.").expect("a $. selector");
    (
        path.split('.').map(str::to_owned).collect(),
        value.trim().trim_matches('"').to_owned(),
    )
}

#[test]
fn the_refund_required_alarm_counts_the_dispatchers_log_line() {
    if std::env::var_os(LOG_CHILD).is_some() {
        // In a process of its own: the dispatcher's logging, as in Lambda.
        tikivip_api::init_tracing();
        tracing::error!(
            transaction_id = "0190f1c2-0000-7000-8000-000000000000",
            alert = "refund_required",
            "{REFUND_REQUIRED_MESSAGE}"
        );
        return;
    }

    // The dispatcher raises exactly this alert.
    let dispatcher = read(&workspace().join("functions/ipn-dispatcher/src/lib.rs"));
    assert!(dispatcher.contains("alert = \"refund_required\""));

    let filters = of_type("AWS::Logs::MetricFilter");
    let (_, filter) = filters
        .iter()
        .find(|(_, f)| {
            f["Properties"]["MetricTransformations"][0]["MetricName"] == "RefundRequired"
        })
        .expect("a RefundRequired metric filter");
    let p = &filter["Properties"];
    let (dispatcher_id, f) = function("ipn-dispatcher");
    assert_eq!(
        p["LogGroupName"], f["Properties"]["LoggingConfig"]["LogGroup"],
        "the filter reads {dispatcher_id}'s log group"
    );
    let transform = &p["MetricTransformations"][0];
    let alarmed = of_type("AWS::CloudWatch::Alarm").values().any(|a| {
        a["Properties"]["MetricName"] == transform["MetricName"]
            && a["Properties"]["Namespace"] == transform["MetricNamespace"]
    });
    assert!(alarmed, "an alarm on {transform}");

    // What init_tracing really prints, against what the filter selects.
    let test_name = module_path!()
        .split_once("::")
        .map_or("", |(_, m)| m)
        .to_owned()
        + "::the_refund_required_alarm_counts_the_dispatchers_log_line";
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            test_name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LOG_CHILD, "1")
        .env("RUST_LOG", "info")
        .output()
        .expect("run the child");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line: Value = stdout
        .lines()
        // libtest may print "test … " before it on the same line.
        .filter_map(|l| l.find('{').map(|at| &l[at..]))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // init_tracing may log lines of its own first.
        .find(|line| line["fields"]["message"] == REFUND_REQUIRED_MESSAGE)
        .unwrap_or_else(|| panic!("no JSON log line of the alert in {stdout}"));
    let (path, value) = json_filter(p["FilterPattern"].as_str().unwrap());
    let selected = path.iter().fold(&line, |v, key| &v[key]);
    assert_eq!(
        selected,
        &json!(value),
        "filter {path:?} = {value:?} against {line}"
    );
}

// ------------------------------------------------------------------ outputs and secrets

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
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL must point at the local emulator (run with `make test`), got {endpoint:?}"
    );
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-southeast-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .load()
        .await;
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

// ------------------------------------------------------------------ Tini App

#[test]
fn the_tiniapp_processor_consumes_its_own_queue_and_publishes_on_a_fifo_queue() {
    let (id, f) = function("tiniapp-processor");
    let sqs: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS")
        .collect();
    assert_eq!(sqs.len(), 1, "{id} has one SQS source");
    let p = &sqs[0]["Properties"];
    assert_eq!(p["Queue"], get_att("TiniAppQueue", "Arn"));
    assert_eq!(
        p["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let queue = &resource("TiniAppQueue")["Properties"];
    assert_eq!(
        queue["RedrivePolicy"],
        json!({
            "deadLetterTargetArn": get_att("TiniAppDeadLetterQueue", "Arn"),
            "maxReceiveCount": tikivip_queue::MAX_RECEIVE_COUNT,
        })
    );
    let timeout = as_u64(property(f, "Timeout").unwrap(), "Timeout");
    let visibility = as_u64(&queue["VisibilityTimeout"], "VisibilityTimeout");
    assert!(
        visibility >= 6 * timeout,
        "{visibility} s < 6 × {timeout} s"
    );
    let tiki_ms = as_u64(&environment(f)["TIKI_TIMEOUT_MS"], "TIKI_TIMEOUT_MS");
    assert!(
        tiki_ms + 5_000 <= timeout * 1_000,
        "{id}: one order API call"
    );
    assert_eq!(environment(f)["TIKI_ENVIRONMENT"], reference("Stage"));

    // SQS deduplicates only on a FIFO queue, with our own ids.
    let events = &resource("TiniAppEventsQueue")["Properties"];
    assert_eq!(events["FifoQueue"], true);
    assert_eq!(events["ContentBasedDeduplication"], false);
    assert!(
        events["QueueName"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(".fifo")
    );
}

#[test]
fn the_tiniapp_unknown_order_alarm_counts_the_processors_log_line() {
    let filter = &resource("TiniAppUnknownOrderMetricFilter")["Properties"];
    let (path, value) = json_filter(filter["FilterPattern"].as_str().unwrap());
    assert_eq!(path, ["fields", "alert"]);
    let processor = read(&workspace().join("functions/tiniapp-processor/src/lib.rs"));
    assert!(
        processor.contains(&format!("alert = \"{value}\"")),
        "the processor logs alert = {value}"
    );
    assert_eq!(
        filter["LogGroupName"],
        reference("TiniAppProcessorLogGroup")
    );
}
