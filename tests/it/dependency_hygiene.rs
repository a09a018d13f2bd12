//! Dependency hygiene of every function binary, as Cargo resolves it for
//! Lambda's arm64 and for x86_64 (`cargo tree`), and how the functions build
//! their AWS clients:
//!
//! - one HTTP stack: no hyper 0.14, exactly one `hyper` and one `rustls`;
//!   rustls on aws-lc-rs; no `ring`, no `native-tls`, no OpenSSL;
//! - `lambda_http` without its default features: the API Gateway HTTP API
//!   (v2) event only;
//! - no regex engine: the log filter is `tracing_subscriber::filter::Targets`
//!   (shared/api), not `EnvFilter`, whose `env-filter` feature links
//!   `regex-automata` (~0.3 MB of a package);
//! - SHA-256 (every request's HMAC) in hardware: sha2 0.10 detects SHA-NI on
//!   x86_64 through `cpufeatures` by itself, but compiles its ARMv8 SHA-2 path
//!   only with its `asm` feature (shared/signing/Cargo.toml turns it on for
//!   aarch64); sha2 0.11 (russh's, reconciliation only) detects both itself;
//! - AWS SDK and HTTP clients built only while a function starts (in a
//!   `from_env`), never per request, and the store and queue opening their
//!   connection there too (BENCHMARKS.md measures what that saves).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
}

/// The package names of `functions/*`: one Lambda function binary each.
fn function_packages() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("functions"))
        .expect("functions/")
        .filter_map(|entry| {
            let manifest = std::fs::read_to_string(entry.ok()?.path().join("Cargo.toml")).ok()?;
            manifest
                .lines()
                .find_map(|line| line.trim().strip_prefix("name = \""))
                .map(|rest| rest.trim_end_matches('"').to_owned())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 6, "functions found: {names:?}");
    names
}

/// One line of `cargo tree --prefix depth -f '{p}|{f}'`.
#[derive(Debug)]
struct Node {
    depth: usize,
    name: String,
    version: String,
    features: BTreeSet<String>,
}

/// A function binary's dependency graph for one target.
#[derive(Debug, Default)]
struct Graph {
    /// name → versions.
    versions: BTreeMap<String, BTreeSet<String>>,
    /// name → enabled features (union over versions).
    features: BTreeMap<String, BTreeSet<String>>,
    /// (parent name, child name).
    edges: BTreeSet<(String, String)>,
}

impl Graph {
    fn has(&self, name: &str) -> bool {
        self.versions.contains_key(name)
    }

    fn features(&self, name: &str) -> BTreeSet<String> {
        self.features.get(name).cloned().unwrap_or_default()
    }
}

fn parse_line(line: &str) -> Option<Node> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let depth = line[..digits].parse().ok()?;
    let line = line[digits..].trim_end_matches(" (*)");
    let (package, features) = line.split_once('|')?;
    let mut words = package.split_whitespace();
    let name = words.next()?.to_owned();
    let version = words.next()?.trim_start_matches('v').to_owned();
    let features = features
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    Some(Node {
        depth,
        name,
        version,
        features,
    })
}

/// One function's graph for `target`. One `cargo tree` per function: with
/// several `--package`, a package met in an earlier tree is not expanded again.
fn graph(function: &str, target: &str) -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace())
        .args(["tree", "--package", function, "--edges", "normal"])
        .args([
            "--target", target, "--prefix", "depth", "--format", "{p}|{f}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree -p {function} --target {target}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let mut graph = Graph::default();
    let mut stack: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let node =
            parse_line(line).unwrap_or_else(|| panic!("unreadable cargo tree line {line:?}"));
        stack.truncate(node.depth);
        if let Some(parent) = stack.last() {
            graph.edges.insert((parent.clone(), node.name.clone()));
        }
        graph
            .versions
            .entry(node.name.clone())
            .or_default()
            .insert(node.version.clone());
        graph
            .features
            .entry(node.name.clone())
            .or_default()
            .extend(node.features.iter().cloned());
        stack.push(node.name);
    }
    assert!(
        graph.has(function),
        "cargo tree printed no {function}: {text}"
    );
    graph
}

/// What must hold of one function's graph on one target.
fn violations(function: &str, target: &str, graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    let mut fail = |why: String| found.push(format!("{function} ({target}): {why}"));

    for banned in ["ring", "native-tls", "openssl", "openssl-sys", "hyper-tls"] {
        if graph.has(banned) {
            fail(format!("links {banned}"));
        }
    }
    for name in ["hyper", "rustls"] {
        let versions = graph.versions.get(name).cloned().unwrap_or_default();
        if versions.len() != 1 {
            fail(format!("needs exactly one {name}, has {versions:?}"));
        }
    }
    if graph
        .versions
        .get("hyper")
        .is_some_and(|v| v.iter().any(|v| v.starts_with("0.")))
    {
        fail("links hyper 0.x (the AWS SDK's legacy HTTP stack)".into());
    }
    let rustls = graph.features("rustls");
    if !rustls.contains("aws_lc_rs") || rustls.contains("ring") {
        fail(format!("rustls must run on aws-lc-rs alone: {rustls:?}"));
    }

    let lambda_http = graph.features("lambda_http");
    let allowed: BTreeSet<String> = ["apigw_http", "tracing"].map(String::from).into();
    if !graph.has("lambda_http")
        || !lambda_http.contains("apigw_http")
        || !lambda_http.is_subset(&allowed)
    {
        fail(format!(
            "lambda_http must have only apigw_http (and tracing): {lambda_http:?}"
        ));
    }

    // The SDK's own `regex-lite` is small and stays.
    for banned in ["regex", "regex-automata", "regex-syntax", "matchers"] {
        if graph.has(banned) {
            fail(format!(
                "links {banned}: who turns on tracing-subscriber's `env-filter`? \
                 (`cargo tree -e features -i tracing-subscriber`)"
            ));
        }
    }
    let subscriber = graph.features("tracing-subscriber");
    if subscriber.contains("env-filter") {
        fail(format!(
            "tracing-subscriber with `env-filter` (a regex engine): {subscriber:?}"
        ));
    }

    // sha2 0.10 (the signing crate's) detects SHA-NI on x86_64 through
    // `cpufeatures` but compiles its ARMv8 path only with `asm`; sha2 0.11
    // (russh's, in the reconciliation function) detects both through
    // `cpufeatures` with no feature to turn on.
    let sha2 = graph.features("sha2");
    let versions = graph.versions.get("sha2").cloned().unwrap_or_default();
    if versions.is_empty() {
        fail("does not link sha2".into());
    }
    for version in &versions {
        if !version.starts_with("0.10.") && !version.starts_with("0.11.") {
            fail(format!(
                "sha2 {version}: check how it reaches SHA-NI / ARMv8 SHA-2, then update this test"
            ));
        }
    }
    if sha2.iter().any(|f| f.starts_with("force-soft")) {
        fail(format!("sha2 forced to software: {sha2:?}"));
    }
    if !graph
        .edges
        .contains(&("sha2".to_owned(), "cpufeatures".to_owned()))
    {
        fail("sha2 without cpufeatures: no run-time SHA extension detection".into());
    }
    let has_010 = versions.iter().any(|v| v.starts_with("0.10."));
    if target.starts_with("aarch64") && has_010 && !sha2.contains("asm") {
        fail(format!(
            "sha2 0.10 without `asm` on aarch64 compiles no ARMv8 SHA-2 path: {sha2:?}"
        ));
    }
    found
}

fn check_target(target: &str) {
    let functions = function_packages();
    let problems: Vec<String> = std::thread::scope(|scope| {
        let checks: Vec<_> = functions
            .iter()
            .map(|function| {
                scope.spawn(move || violations(function, target, &graph(function, target)))
            })
            .collect();
        checks
            .into_iter()
            .flat_map(|check| check.join().expect("the check ran"))
            .collect()
    });
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_function_on_lambda_arm64_has_one_lean_http_stack_and_hardware_sha256() {
    check_target("aarch64-unknown-linux-gnu");
}

#[test]
fn every_function_on_x86_64_has_one_lean_http_stack_and_hardware_sha256() {
    check_target("x86_64-unknown-linux-gnu");
}

#[test]
fn the_parser_reads_cargo_tree_lines() {
    let node = parse_line("3sha2 v0.10.9|asm,default,std (*)").unwrap();
    assert_eq!(
        (node.depth, node.name.as_str(), node.version.as_str()),
        (3, "sha2", "0.10.9")
    );
    assert!(node.features.contains("asm"));
    let root = parse_line("0refund v0.1.0 (/work/functions/refund)|").unwrap();
    assert_eq!((root.depth, root.name.as_str()), (0, "refund"));
    assert!(root.features.is_empty());
}

// ----------------------------------------------------------- client building

/// Non-test Rust sources under `dir`.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            let shown = path
                .strip_prefix(workspace())
                .unwrap_or(&path)
                .display()
                .to_string();
            found.push((shown, code));
        }
    }
    found
}

/// The name of the function whose body holds `at`: the nearest `fn NAME`.
fn enclosing_fn(code: &str, at: usize) -> &str {
    let before = &code[..at];
    let Some(start) = before.rfind("fn ") else {
        return "";
    };
    before[start + 3..]
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("")
}

#[test]
fn aws_and_http_clients_are_built_at_init_only() {
    // What builds a client (a connection pool), and where it may happen:
    // during a function's start, never while it handles an event.
    let rules: &[(&str, &[&str])] = &[
        ("load_defaults(", &["load_aws_config"]),
        // `IpnQueue::connect`: the queue a from_env names, with its warm-up.
        (
            "Client::new(",
            &["from_env", "fetch_secret_string", "connect"],
        ),
        ("Client::from_conf(", &["from_env"]),
        ("TikiClient::new(", &["from_env"]),
        // The Tiki client's hyper pool, in the constructors called above
        // (`TikiClient::build` serves `TikiClient::new` and `TiniAppClient::new`).
        ("Client::builder(", &["new", "build"]),
    ];
    let mut problems = Vec::new();
    let mut seen = 0;
    let mut configs = 0;
    for dir in ["functions", "shared"] {
        for (path, code) in sources(&workspace().join(dir)) {
            for (pattern, allowed) in rules {
                for (at, _) in code.match_indices(pattern) {
                    if *pattern == "load_defaults(" {
                        configs += 1;
                    }
                    // `TikiClient::new(` also matches `Client::new(`.
                    if *pattern == "Client::new(" && code[..at].ends_with("Tiki") {
                        continue;
                    }
                    seen += 1;
                    let within = enclosing_fn(&code, at);
                    if !allowed.contains(&within) {
                        problems.push(format!(
                            "{path}: `{pattern}` inside `fn {within}`; clients are built once, in from_env"
                        ));
                    }
                }
            }
        }
    }
    assert!(seen >= 4, "the scan found only {seen} client constructions");
    // One AWS configuration (and so one HTTP client, one CA bundle read) per
    // process, shared by every AWS client: loaded in one place only.
    assert_eq!(configs, 1, "`load_defaults(` in {configs} places");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The body of `fn from_env` in `file`.
fn from_env_of(file: &str) -> String {
    fn_body(file, "fn from_env")
}

/// The body of the function `signature` starts in `file`.
fn fn_body(file: &str, signature: &str) -> String {
    let code = std::fs::read_to_string(workspace().join(file)).unwrap();
    let start = code
        .find(signature)
        .unwrap_or_else(|| panic!("{file} has a {signature}"));
    let end = code[start..]
        .find("\n    }\n")
        .map_or(code.len(), |end| start + end);
    code[start..end].to_owned()
}

#[test]
fn the_store_and_the_queue_open_their_connection_at_init() {
    let store = from_env_of("shared/store/src/lib.rs");
    assert!(
        store.contains(".get_item()") && store.contains(".send()"),
        "Store::from_env makes a warm-up call:\n{store}"
    );
    let from_env = from_env_of("shared/queue/src/queue.rs");
    assert!(
        from_env.contains("IpnQueue::connect("),
        "IpnQueue::from_env connects:\n{from_env}"
    );
    let queue = fn_body("shared/queue/src/queue.rs", "pub async fn connect");
    assert!(
        queue.contains(".get_queue_attributes()") && queue.contains(".send()"),
        "IpnQueue::connect makes a warm-up call:\n{queue}"
    );
}
