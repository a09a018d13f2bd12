//! Least privilege: each role grants what its function calls.

use serde_json::Value;
use std::collections::BTreeSet;

use super::*;

pub(super) fn role_statements(function: &Value) -> Vec<&'static Value> {
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

pub(super) fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

pub(super) fn actions(statement: &Value) -> BTreeSet<String> {
    one_or_many(&statement["Action"])
        .into_iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

pub(super) fn resources_of(statement: &Value) -> Vec<Value> {
    one_or_many(&statement["Resource"])
}

/// The DynamoDB calls the store makes (writes inside TransactWriteItems are
/// authorised as PutItem and UpdateItem).
pub(super) const DYNAMODB_CALLS: &[&str] = &[
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
