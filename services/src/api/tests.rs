//! The `/v2` routes' answers: statuses, bodies and headers as Marathon's.

use crate::state::tests::Harness;

#[test]
fn answers_as_marathon() {
    let mut h = Harness::new();
    let r = h.call("POST", "/apps", r#"{"id":"/a/b","cmd":"x","cpus":"many"}"#);
    assert_eq!(r.status, 422);
    let body = r.body.unwrap();
    assert_eq!(body["details"][0]["path"], "/cpus");
    assert_eq!(h.call("POST", "/apps", "{oops").status, 400);
    let r = h.call(
        "POST",
        "/apps",
        r#"{"id":"/a/b","cmd":"x","constraints":[["rack","NEAR"]]}"#,
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body.unwrap()["details"][0]["path"], "/constraints(0)");
    let r = h.call("POST", "/apps", r#"{"id":"/a/b","cmd":"x","cpus":0.1}"#);
    assert_eq!(r.status, 201);
    assert!(r
        .headers
        .iter()
        .any(|(k, _)| *k == "Marathon-Deployment-Id"));
    let app = r.body.unwrap();
    assert_eq!(app["id"], "/a/b");
    assert!(app["version"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        h.call("POST", "/apps", r#"{"id":"/a/b","cmd":"x"}"#).status,
        409
    );
    assert_eq!(h.call("GET", "/apps//a/b", "").status, 200);
    assert_eq!(h.call("GET", "/apps/a/nope", "").status, 404);
    let listed = h.call("GET", "/apps?label=", "");
    let listed: serde_json::Value = serde_json::from_str(listed.raw.as_deref().unwrap()).unwrap();
    let one = h.call("GET", "/apps/a/b", "").body.unwrap();
    let mut single = one["app"].clone();
    for k in ["tasks", "lastTaskFailure"] {
        single.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(
        listed["apps"][0], single,
        "the list's text form equals the JSON form"
    );
    let groups = h.call("GET", "/groups", "").body.unwrap();
    assert_eq!(groups["groups"][0]["id"], "/a");
    assert_eq!(groups["groups"][0]["apps"][0]["id"], "/a/b");
    let all = h.call("GET", "/apps/a/*", "").body.unwrap();
    assert_eq!(all["*"].as_array().unwrap().len(), 1);
    let deployments = h.call("GET", "/deployments", "").body.unwrap();
    assert_eq!(deployments[0]["affectedApps"][0], "/a/b");
    let versions = h.call("GET", "/apps/a/b/versions", "").body.unwrap();
    let v = versions["versions"][0].as_str().unwrap().to_string();
    assert_eq!(
        h.call("GET", &format!("/apps/a/b/versions/{v}"), "").status,
        200
    );
    let info = h.call("GET", "/info", "").body.unwrap();
    assert!(info["marathon_config"].is_object() && info["http_config"].is_object());
    let d = deployments[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        h.call("DELETE", &format!("/deployments/{d}?force=true"), "")
            .status,
        202
    );
    assert_eq!(h.call("DELETE", "/apps/a/b", "").status, 200);
    assert_eq!(h.call("GET", "/apps/a/b", "").status, 404);
    assert_eq!(
        h.call("POST", "/tasks/delete", r#"{"ids":["bad"]}"#).status,
        400
    );
}
