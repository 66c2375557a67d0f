//! Role weights and quota over real HTTP against a real in-process master (test agents and
//! the real scheduler driver on one node with a paused clock): each call's success path and
//! its refusals, what `/master/roles`, GET_ROLES and the metrics show, and what the
//! allocator does with them, measured by counting offers: weights 1 and 2 split a
//! contended cluster 1:2, and a quota guarantee is honoured while another role is greedy.

use std::collections::HashMap;
use std::net::SocketAddr;

use meso_api::v1::{FrameworkInfo, OfferId};
use meso_testkit::http::blocking::{call, exchange as raw, get};
use meso_testkit::http::Response;
use meso_testkit::master_harness::*;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(HANG_GUARD, tokio::task::spawn_blocking(f))
        .await
        .expect("hang guard: http")
        .expect("http client thread")
}

async fn op(addr: SocketAddr, body: &str) -> Response {
    let body = body.to_string();
    blocking(move || call(addr, &body)).await
}

async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    blocking(move || raw(addr, request.as_bytes())).await
}

async fn http_get(addr: SocketAddr, path: &str) -> Response {
    let path = path.to_string();
    blocking(move || get(addr, &path)).await
}

fn framework(role: &str) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("tester", role);
    info.role = Some(role.to_string());
    info
}

async fn cluster_with_agents(n: usize, resources: &str) -> (Cluster, Vec<AgentHandle>) {
    let cluster = Cluster::start(Cluster::config()).await;
    cluster.node.set_delegate(Some("master"));
    let mut agents = Vec::new();
    for _ in 0..n {
        agents.push(cluster.add_agent(resources).await);
    }
    (cluster, agents)
}

fn assert_refused(r: &Response, status: u16, says: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(
        r.text().contains(says),
        "{what}: body {:?} should say {says:?}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_calls_set_and_show_weights_and_refuse_bad_ones() {
    let (cluster, _agents) = cluster_with_agents(1, "cpus:4;mem:1024").await;
    let addr = cluster.node.addr();

    let r = op(addr, r#"{"type":"GET_WEIGHTS"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["get_weights"]["weight_infos"],
        serde_json::json!([])
    );

    let r = op(
        addr,
        r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[
            {"role":"eng","weight":2.5},{"role":"ops","weight":0.5}]}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = op(addr, r#"{"type":"GET_WEIGHTS"}"#).await;
    assert_eq!(
        r.json()["get_weights"]["weight_infos"],
        serde_json::json!([{"role":"eng","weight":2.5},{"role":"ops","weight":0.5}])
    );

    // Legacy PUT /weights and GET /weights (with and without the /master prefix).
    let r = http(addr, "PUT", "/weights", r#"[{"role":"ops","weight":3}]"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for path in ["/weights", "/master/weights"] {
        let r = http_get(addr, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.json(),
            serde_json::json!([{"role":"eng","weight":2.5},{"role":"ops","weight":3.0}]),
            "{path}"
        );
    }

    // Refusals: nothing of a refused request is applied.
    for (body, says) in [
        (r#"[{"role":"eng","weight":0}]"#, "Weights must be positive"),
        (
            r#"[{"role":"eng","weight":-2}]"#,
            "Weights must be positive",
        ),
        (
            r#"[{"role":"ops","weight":9},{"role":"..","weight":1}]"#,
            "Invalid role '..'",
        ),
        (
            r#"[{"role":"eng"}]"#,
            "Failed to parse update weights request",
        ),
        (
            r#"{"role":"eng","weight":2}"#,
            "Failed to parse update weights request",
        ),
        ("nope", "Failed to parse update weights request"),
    ] {
        let r = http(addr, "PUT", "/weights", body).await;
        assert_refused(&r, 400, says, body);
    }
    let r = op(
        addr,
        r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"a/.","weight":1}]}}"#,
    )
    .await;
    assert_refused(&r, 400, "Invalid role", "v1 bad role");
    let r = op(addr, r#"{"type":"UPDATE_WEIGHTS"}"#).await;
    assert_refused(&r, 400, "update_weights", "v1 without payload");
    let r = http(addr, "POST", "/weights", "[]").await;
    assert_eq!(r.status, 405, "{}", r.text());
    assert_eq!(
        http_get(addr, "/weights").await.json(),
        serde_json::json!([{"role":"eng","weight":2.5},{"role":"ops","weight":3.0}]),
        "refused requests changed nothing"
    );

    // Roles show their weights, including roles with no framework yet.
    let roles = http_get(addr, "/master/roles").await.json();
    let eng = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "eng")
        .expect("a weighted role is listed");
    assert_eq!(eng["weight"], 2.5);
    let r = op(addr, r#"{"type":"GET_ROLES"}"#).await;
    let listed = &r.json()["get_roles"]["roles"];
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "ops" && r["weight"] == 3.0),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_calls_set_show_and_remove_quota_and_refuse_what_cannot_be_met() {
    let (cluster, _agents) = cluster_with_agents(2, "cpus:4;mem:1024").await;
    let addr = cluster.node.addr();

    let r = op(addr, r#"{"type":"GET_QUOTA"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["get_quota"]["status"], serde_json::json!({}));

    let update = |force: bool, configs: &str| {
        format!(
            r#"{{"type":"UPDATE_QUOTA","update_quota":{{"force":{force},"quota_configs":{configs}}}}}"#
        )
    };
    let r = op(
        addr,
        &update(
            false,
            r#"[{"role":"dev","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":6},"mem":{"value":2048}}}]"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = op(addr, r#"{"type":"GET_QUOTA"}"#).await;
    let status = &r.json()["get_quota"]["status"];
    assert_eq!(status["configs"][0]["role"], "dev");
    assert_eq!(status["configs"][0]["guarantees"]["cpus"]["value"], 2.0);
    assert_eq!(status["configs"][0]["limits"]["mem"]["value"], 2048.0);
    assert_eq!(status["infos"][0]["guarantee"][0]["name"], "cpus");

    // Refusals of UPDATE_QUOTA (the cluster has cpus:8, dev is guaranteed 2).
    for (body, says) in [
        (
            update(
                false,
                r#"[{"role":"test","guarantees":{"cpus":{"value":7}}}]"#,
            ),
            "exceed cluster capacity",
        ),
        (
            update(
                false,
                r#"[{"role":"test","guarantees":{"cpus":{"value":3}},"limits":{"cpus":{"value":2}}}]"#,
            ),
            "is not contained within",
        ),
        (
            update(
                false,
                r#"[{"role":"eng/web","limits":{"cpus":{"value":1}}}]"#,
            ),
            "nested role",
        ),
        (
            update(false, r#"[{"limits":{"cpus":{"value":1}}}]"#),
            "must be set",
        ),
        (
            update(false, r#"[{"role":"test","limits":{"cpus":{"value":-1}}}]"#),
            "negative",
        ),
        (
            update(true, r#"[{"role":"test","limits":{"ports":{"value":1}}}]"#),
            "scalar",
        ),
    ] {
        let r = op(addr, &body).await;
        assert_refused(&r, 400, says, &body);
    }
    // `force` skips the capacity check.
    let r = op(
        addr,
        &update(
            true,
            r#"[{"role":"test","guarantees":{"cpus":{"value":7}}}]"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let metrics = http_get(addr, "/metrics/snapshot").await.json();
    assert_eq!(
        metrics["allocator/mesos/quota/roles/test/resources/cpus/guarantee"],
        7.0
    );
    assert_eq!(
        metrics["allocator/mesos/quota/roles/dev/resources/cpus/limit"],
        6.0
    );
    // The allocator's totals by resource, and its rounds.
    assert!(
        metrics["allocator/mesos/resources/cpus/total"].as_f64() > Some(0.0),
        "{metrics}"
    );
    assert!(
        metrics["allocator/mesos/resources/cpus/offered_or_allocated"].is_number(),
        "{metrics}"
    );
    assert!(
        metrics["allocator/mesos/allocation_runs"].as_f64() > Some(0.0),
        "{metrics}"
    );
    // Tidy: every key, the per-role ones included, has a Prometheus family of its own.
    for (key, value) in metrics.as_object().expect("an object") {
        let s = meso_api::prometheus::sample(key, value.as_f64().unwrap_or(0.0));
        assert!(
            s.mapped,
            "snapshot key {key:?} has no family in meso_api::prometheus"
        );
    }
    let text = http_get(addr, "/metrics").await.text();
    assert!(
        text.contains("meso_allocator_quota_guarantee{role=\"test\",resource=\"cpus\"} 7\n"),
        "{text}"
    );
    // An empty config removes test's quota.
    let r = op(addr, &update(false, r#"[{"role":"test"}]"#)).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // The legacy calls: POST /quota (guarantee, also the limit), GET and DELETE /quota/ROLE.
    let set = |role: &str, cpus: f64, force: bool| {
        format!(
            r#"{{"role":"{role}","force":{force},"guarantee":[{{"name":"cpus","type":"SCALAR","scalar":{{"value":{cpus}}}}}]}}"#
        )
    };
    let r = http(addr, "POST", "/quota", &set("ops", 1.0, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = http(addr, "POST", "/quota", &set("ops", 1.0, false)).await;
    assert_refused(&r, 400, "already has quota", "set twice");
    let r = http(addr, "POST", "/quota", &set("big", 6.0, false)).await;
    assert_refused(&r, 409, "overcommit", "set beyond capacity");
    let r = http(addr, "POST", "/quota", "{nope").await;
    assert_refused(&r, 400, "Failed to parse set quota request", "bad JSON");
    let r = http_get(addr, "/quota").await;
    assert_eq!(r.status, 200);
    let configs = r.json()["configs"].clone();
    let ops = configs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == "ops")
        .expect("ops has quota");
    assert_eq!(ops["guarantees"]["cpus"]["value"], 1.0);
    assert_eq!(ops["limits"]["cpus"]["value"], 1.0);
    let r = http(addr, "DELETE", "/quota/ops", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = http(addr, "DELETE", "/quota/ops", "").await;
    assert_refused(&r, 400, "has no quota set", "delete twice");
    let r = http(addr, "DELETE", "/quota", "").await;
    assert_refused(&r, 400, "/quota/<role>", "delete without a role");
    let r = http(addr, "PUT", "/quota", "{}").await;
    assert_eq!(r.status, 405, "{}", r.text());

    // The deprecated v1 calls.
    let r = op(
        addr,
        &format!(
            r#"{{"type":"SET_QUOTA","set_quota":{{"quota_request":{}}}}}"#,
            set("ops", 1.0, false)
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = op(
        addr,
        r#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"ops"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = op(
        addr,
        r#"{"type":"REMOVE_QUOTA","remove_quota":{"role":"ops"}}"#,
    )
    .await;
    assert_refused(&r, 400, "has no quota set", "v1 remove twice");

    // Roles show quota.
    let roles = http_get(addr, "/master/roles").await.json();
    let dev = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dev")
        .expect("a role with quota is listed");
    assert_eq!(dev["quota"]["guarantee"]["cpus"], 2.0);
    assert_eq!(dev["quota"]["limit"]["cpus"], 6.0);
    let quotas = http_get(addr, "/quota").await.json();
    assert_eq!(
        quotas["configs"].as_array().map(Vec::len),
        Some(1),
        "{quotas}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_below_consumption_needs_force() {
    let (cluster, mut agents) = cluster_with_agents(1, "cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let mut fw = cluster.add_framework(framework("dev")).await;
    launch_one(&mut fw, &mut agents[0], "t1").await;
    let body = |force: bool| {
        format!(
            r#"{{"type":"UPDATE_QUOTA","update_quota":{{"force":{force},"quota_configs":[{{"role":"dev","limits":{{"cpus":{{"value":0.5}}}}}}]}}}}"#
        )
    };
    let r = op(addr, &body(false)).await;
    assert_refused(&r, 400, "already consuming", "limit below use");
    let r = op(addr, &body(true)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let roles = http_get(addr, "/master/roles").await.json();
    let dev = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dev")
        .expect("dev listed");
    assert_eq!(dev["quota"]["consumed"]["cpus"], 1.0);
    assert_eq!(dev["quota"]["limit"]["cpus"], 0.5);
}

/// Offers `fw` holds, by id, with their cpus.
type Held = HashMap<OfferId, f64>;

/// Takes every offer event waiting for `fw` into `held`; returns how many offers came.
fn drain_offers(fw: &mut FrameworkHandle, held: &mut Held) -> usize {
    let mut n = 0;
    while let Ok(event) = fw.events.try_recv() {
        match event {
            SchedEvent::Offers(offers) => {
                for o in offers {
                    n += 1;
                    held.insert(o.id.clone(), o.resources.cpus().map_or(0.0, |c| c.as_f64()));
                }
            }
            SchedEvent::Rescinded(id) => {
                held.remove(&id);
            }
            _ => {}
        }
    }
    n
}

fn decline_all(fw: &FrameworkHandle, held: &mut Held) {
    let ids: Vec<OfferId> = held.drain().map(|(id, _)| id).collect();
    fw.driver
        .run(move |a| {
            for id in ids {
                a.decline_offer(
                    id,
                    meso_api::v1::Filters {
                        refuse_seconds: 0.0,
                    },
                )
                .expect("framework is registered");
            }
        })
        .expect("driver is running");
}

/// Lets the cluster work until `done` holds for what the frameworks hold.
async fn settle_until(
    cluster: &Cluster,
    fws: &mut [&mut FrameworkHandle],
    held: &mut [Held],
    counts: &mut [usize],
    done: impl Fn(&[Held]) -> bool,
) {
    for _ in 0..10_000 {
        for (i, fw) in fws.iter_mut().enumerate() {
            counts[i] += drain_offers(fw, &mut held[i]);
        }
        if done(held) {
            return;
        }
        cluster.clock.settle().await;
        tokio::task::yield_now().await;
    }
    panic!("the frameworks never came to hold what was expected: {held:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_one_and_two_split_a_contended_cluster_one_to_two() {
    const AGENTS: usize = 30;
    let (cluster, _agents) = cluster_with_agents(AGENTS, "cpus:1;mem:128").await;
    let addr = cluster.node.addr();
    let r = op(
        addr,
        r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"b","weight":2}]}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut fa = cluster.add_framework(framework("a")).await;
    let mut fb = cluster.add_framework(framework("b")).await;
    let mut held = vec![Held::new(), Held::new()];
    let mut counts = vec![0usize, 0usize];
    // Each cycle: both frameworks hold every offer until the whole cluster is offered,
    // then decline everything (no filter). Two warm-up cycles settle who registered first.
    let full = |h: &[Held]| h[0].len() + h[1].len() == AGENTS;
    for _ in 0..2 {
        settle_until(
            &cluster,
            &mut [&mut fa, &mut fb],
            &mut held,
            &mut counts,
            full,
        )
        .await;
        decline_all(&fa, &mut held[0]);
        decline_all(&fb, &mut held[1]);
    }
    counts = vec![0, 0];
    for _ in 0..100 {
        settle_until(
            &cluster,
            &mut [&mut fa, &mut fb],
            &mut held,
            &mut counts,
            full,
        )
        .await;
        decline_all(&fa, &mut held[0]);
        decline_all(&fb, &mut held[1]);
    }
    let ratio = counts[1] as f64 / counts[0] as f64;
    eprintln!(
        "100 cycles, {AGENTS} agents: offers to a (weight 1) {}, to b (weight 2) {}, ratio {ratio:.3}",
        counts[0], counts[1]
    );
    assert!(
        (ratio - 2.0).abs() <= 0.1,
        "offers to a: {}, to b: {}, ratio {ratio:.3} is not within 5% of 2",
        counts[0],
        counts[1]
    );
    let metrics = http_get(addr, "/metrics/snapshot").await.json();
    assert!(
        metrics["allocator/mesos/roles/b/shares/dominant"].is_number(),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_guarantee_is_honoured_while_another_role_is_greedy() {
    const AGENTS: usize = 20;
    let (cluster, _agents) = cluster_with_agents(AGENTS, "cpus:1;mem:128").await;
    let addr = cluster.node.addr();
    let r = op(
        addr,
        r#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
            {"role":"q","guarantees":{"cpus":{"value":5},"mem":{"value":640}}}]}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The greedy role comes first and keeps everything it is offered.
    let mut greedy = cluster.add_framework(framework("g")).await;
    let mut held = vec![Held::new()];
    let mut counts = vec![0usize];
    settle_until(&cluster, &mut [&mut greedy], &mut held, &mut counts, |h| {
        h[0].len() == AGENTS - 5
    })
    .await;
    cluster.clock.settle().await;
    counts[0] += drain_offers(&mut greedy, &mut held[0]);
    assert_eq!(
        held[0].len(),
        AGENTS - 5,
        "the guarantee's headroom is held back from the greedy role"
    );
    let mut q = cluster.add_framework(framework("q")).await;
    held.push(Held::new());
    counts.push(0);
    settle_until(
        &cluster,
        &mut [&mut greedy, &mut q],
        &mut held,
        &mut counts,
        |h| h[1].values().sum::<f64>() >= 5.0,
    )
    .await;
    assert_eq!(held[1].values().sum::<f64>(), 5.0, "q gets its guarantee");
    assert_eq!(held[0].len(), AGENTS - 5, "the greedy role got no more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weights_flag_seeds_the_weights_and_operators_change_them() {
    let mut config = Cluster::config();
    config.weights = [("eng".to_string(), 3.0)].into();
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));
    let addr = cluster.node.addr();
    let r = http_get(addr, "/weights").await;
    assert_eq!(r.json(), serde_json::json!([{"role":"eng","weight":3.0}]));
    let flags = http_get(addr, "/flags").await.json();
    assert_eq!(flags["flags"]["weights"], "eng=3");
    let r = http(addr, "PUT", "/weights", r#"[{"role":"eng","weight":1}]"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        http_get(addr, "/weights").await.json(),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_limit_rescinds_the_offers_that_would_exceed_it() {
    let (cluster, _agents) = cluster_with_agents(1, "cpus:4;mem:1024").await;
    let addr = cluster.node.addr();
    let mut fw = cluster.add_framework(framework("dev")).await;
    let offer = first_offer(&mut fw).await;
    let r = op(
        addr,
        r#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[
            {"role":"dev","limits":{"cpus":{"value":2}}}]}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rescinded = next_matching(&mut fw.events, "rescind", |e| match e {
        SchedEvent::Rescinded(id) => Some(id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(rescinded, offer.id);
    // What comes back within the limit is offered again, never more than the limit.
    let again = first_offer(&mut fw).await;
    assert_eq!(again.resources.cpus().map(|c| c.as_f64()), Some(2.0));
}
