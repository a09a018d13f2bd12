//! Every route of the HTTP API, against the code.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// SPEC Part 2's endpoints, and the binary that serves each.
pub(super) const ROUTES: &[(&str, &str, &str)] = &[
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

/// The throttle is what bounds a partner's peak (docs/capacity.md): a
/// parameter each deployment sizes, with the documented defaults.
#[test]
fn the_apis_throttle_is_a_parameter_defaulting_to_50_per_second_with_a_burst_of_100() {
    let template = template();
    let route = &template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"];
    assert_eq!(route["ThrottlingRateLimit"], reference("ApiRateLimit"));
    assert_eq!(route["ThrottlingBurstLimit"], reference("ApiBurstLimit"));
    let parameters = &template["Parameters"];
    assert_eq!(parameters["ApiRateLimit"]["Default"], 50);
    assert_eq!(parameters["ApiBurstLimit"]["Default"], 100);
    let capacity = read(&workspace().join("docs/capacity.md"));
    for name in ["ApiRateLimit", "ApiBurstLimit"] {
        assert!(capacity.contains(name), "docs/capacity.md explains {name}");
    }
}
