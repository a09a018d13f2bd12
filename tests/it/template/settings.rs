//! Every setting the code reads is set, and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::*;

/// The functions (and closures) that read settings: a call of one with string
/// literals reads those (`keys_from_env(&aws, "ID", "SECRET")` reads both, and
/// its last is a secret setting).
pub(super) const READERS: &[&str] = &[
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
    "load_secret_text",
];

/// Settings read under names the code computes from a prefix, by the reader
/// named beside it: a function whose sources call it may set any setting of
/// that prefix (the reader refuses a bad value; the README lists them).
pub(super) const READ_BY_PREFIX: &[(&str, &str)] =
    &[("RECONCILIATION_", "ReconciliationFormat::from_vars")];

/// Settings the code reads only to override a default.
pub(super) const OPTIONAL: &[&str] = &[
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
    // shared/sftp's test server (feature `test-support`, never in a function).
    "SSHD",
];

/// Settings a dependency reads in a constructor the function never calls,
/// which this crate-wide scan cannot tell: the Tini App functions build their
/// queue with `IpnQueue::connect`, never `IpnQueue::from_env`.
pub(super) const READ_BY_UNCALLED_CONSTRUCTORS: &[(&str, &[&str])] = &[
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
pub(super) const SET_BY_LAMBDA: &[&str] = &[
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
pub(super) const NOT_READ_BY_OUR_CODE: &[&str] = &["RUST_LOG", "SECRETS_REVISION"];

#[derive(Debug, Default)]
pub(super) struct Settings {
    all: BTreeSet<String>,
    secrets: BTreeSet<String>,
    /// Prefixes of settings read under computed names ([`READ_BY_PREFIX`]).
    prefixes: BTreeSet<String>,
}

/// The workspace crates a crate depends on (normal dependencies), by path.
pub(super) fn workspace_paths() -> BTreeMap<String, PathBuf> {
    let root = read(&workspace().join("Cargo.toml"));
    root.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(" = ")?;
            let path = rest.split("path = \"").nth(1)?.split('"').next()?;
            Some((name.trim().to_owned(), workspace().join(path)))
        })
        .collect()
}

pub(super) fn local_dependencies(crate_dir: &Path) -> BTreeSet<String> {
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
pub(super) fn sources_of(crate_dir: &Path) -> Vec<(PathBuf, String)> {
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
pub(super) fn literal_arguments(code: &str, at: usize, reader: &str) -> Option<Vec<String>> {
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

pub(super) fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

pub(super) fn is_setting_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The function or closure whose body holds `at`: the nearest `fn NAME` or
/// `let NAME = |` before it.
pub(super) fn enclosing(code: &str, at: usize) -> String {
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
pub(super) fn settings_read_by(binary: &str) -> Settings {
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
                    "keys_from_env" | "keys_and_store" | "verifier_and_store" | "load_secret_text"
                ) {
                    settings.secrets.extend(names.last().cloned());
                }
                settings.all.extend(names);
            }
        }
    }
    for (prefix, reader) in READ_BY_PREFIX {
        if sources_of(&workspace().join("functions").join(binary))
            .iter()
            .any(|(_, code)| code.contains(reader))
        {
            settings.prefixes.insert((*prefix).to_owned());
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
                || read
                    .prefixes
                    .iter()
                    .any(|prefix| name.starts_with(prefix.as_str()))
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
