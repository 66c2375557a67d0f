//! The core driven as the framework drives it: API changes, offers, status updates.

use super::*;
use crate::api::{handle, Env, Request};
use crate::ops::Stamp;
use meso_api::attributes::Attributes;
use meso_api::v1::{AgentId, FrameworkId, InverseOffer, OfferId, TaskId};
use meso_api::Resources;

pub(crate) struct Harness {
    pub s: Services,
    pub now_ms: u64,
    next: u64,
    offers: u64,
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            s: Services::new("*"),
            now_ms: 1_600_000_000_000,
            next: 0,
            offers: 0,
        }
    }

    pub fn call(&mut self, method: &str, path: &str, body: &str) -> crate::api::Reply {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut next = self.next;
        let reply = {
            let mut new_id = || {
                next += 1;
                format!("id-{next}")
            };
            let mut stamp = Stamp {
                now_ms: self.now_ms,
                new_id: &mut new_id,
            };
            handle(
                &mut self.s,
                &Request {
                    method,
                    path,
                    query,
                    body: body.as_bytes(),
                },
                &Env {
                    leader: "127.0.0.1:5050",
                    http_port: 5050,
                },
                &mut stamp,
            )
        };
        self.next = next;
        self.tick();
        reply
    }

    pub fn tick(&mut self) {
        let mut next = self.next;
        let mut new_id = || {
            next += 1;
            format!("id-{next}")
        };
        self.s.reconcile(&mut new_id);
        self.next = next;
    }

    pub fn offer(&mut self, host: &str, attrs: &str, cpus: f64) -> Offer {
        self.offers += 1;
        let mut r = Resources::parse(
            &format!("cpus:{cpus};mem:4096;disk:1000;ports:[31000-31100]"),
            "*",
        )
        .unwrap();
        r = r.allocate("*");
        Offer {
            id: OfferId::new(format!("o{}", self.offers)),
            framework_id: FrameworkId::new("fw"),
            agent_id: AgentId::new(format!("agent-{host}")),
            hostname: host.to_string(),
            url: None,
            resources: r,
            attributes: Attributes::parse(attrs).unwrap(),
            executor_ids: vec![],
            unavailability: None,
            allocation_info: None,
        }
    }

    /// Offers one offer per host; returns the tasks launched.
    pub fn round(&mut self, hosts: &[(&str, &str)]) -> Vec<TaskInfo> {
        let offers: Vec<Offer> = hosts.iter().map(|(h, a)| self.offer(h, a, 4.0)).collect();
        let round = self.s.offers(offers, self.now_ms);
        round.launches.into_iter().flat_map(|(_, t)| t).collect()
    }

    pub fn report(&mut self, task: &str, state: TaskState, healthy: Option<bool>) {
        let mut st = TaskStatus::new(TaskId::new(task), state);
        st.healthy = healthy;
        st.agent_id = Some(AgentId::new("agent-x"));
        self.s.status(&st, self.now_ms);
        self.tick();
    }

    pub fn running(&mut self, tasks: &[TaskInfo]) {
        for t in tasks {
            self.report(&t.task_id.to_string(), TaskState::Running, None);
        }
    }

    pub fn kills(&mut self) -> Vec<String> {
        self.s
            .take_effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::Kill { task_id, .. } => Some(task_id),
                _ => None,
            })
            .collect()
    }
}

const HOSTS: [(&str, &str); 3] = [
    ("h1", "rack:r1;zone:west"),
    ("h2", "rack:r2;zone:east"),
    ("h3", "rack:r1;zone:west"),
];

#[test]
fn an_app_is_launched_and_its_deployment_ends_when_it_runs() {
    let mut h = Harness::new();
    let r = h.call("POST", "/apps", r#"{"id":"/web","cmd":"sleep 1000","instances":3,"cpus":0.1,"mem":16,"constraints":[["hostname","UNIQUE"]]}"#);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(h.s.deployments.len(), 1);
    let tasks = h.round(&HOSTS);
    assert_eq!(tasks.len(), 3);
    let hosts: BTreeSet<String> = tasks.iter().map(|t| t.agent_id.to_string()).collect();
    assert_eq!(hosts.len(), 3, "UNIQUE hostname spreads");
    let env = &tasks[0]
        .command
        .as_ref()
        .unwrap()
        .environment
        .as_ref()
        .unwrap()
        .variables;
    assert!(env
        .iter()
        .any(|v| v.name == "PORT0" && v.value.as_deref() == Some("31000")));
    h.running(&tasks);
    assert!(h.s.deployments.is_empty(), "done once all run");
    let app = h.call("GET", "/apps//web", "");
    assert_eq!(app.body.as_ref().unwrap()["app"]["tasksRunning"], 3);
}

#[test]
fn a_failed_instance_is_replaced_after_its_backoff() {
    let mut h = Harness::new();
    h.call(
        "POST",
        "/apps",
        r#"{"id":"/w","cmd":"x","cpus":0.1,"mem":16,"backoffSeconds":5}"#,
    );
    let tasks = h.round(&HOSTS);
    h.running(&tasks);
    let first = tasks[0].task_id.to_string();
    h.report(&first, TaskState::Failed, None);
    assert!(h.round(&HOSTS).is_empty(), "backoff holds the relaunch");
    let queue = h.call("GET", "/queue", "");
    assert_eq!(queue.body.unwrap()["queue"][0]["count"], 1);
    h.now_ms += 5_000;
    let again = h.round(&HOSTS);
    assert_eq!(again.len(), 1);
    assert!(
        again[0].task_id.to_string().ends_with("._app.2"),
        "same instance, next incarnation"
    );
    let app = h.call("GET", "/apps/w", "");
    assert_eq!(
        app.body.unwrap()["app"]["lastTaskFailure"]["taskId"],
        first.as_str()
    );
}

#[test]
fn a_rolling_restart_keeps_the_minimum_serving() {
    let mut h = Harness::new();
    h.call("POST", "/apps", r#"{"id":"/r","cmd":"x","instances":4,"cpus":0.1,"mem":16,"upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0}}"#);
    let tasks = h.round(&HOSTS);
    h.running(&tasks);
    h.kills();
    let r = h.call("PUT", "/apps/r", r#"{"cmd":"y"}"#);
    assert_eq!(r.status, 200, "{r:?}");
    let serving = |h: &Harness| {
        h.s.instances
            .values()
            .filter(|i| i.goal == Goal::Run && i.serving(false, false))
            .count()
    };
    for _ in 0..10 {
        assert!(serving(&h) >= 2);
        for k in h.kills() {
            h.report(&k, TaskState::Killed, None);
            assert!(serving(&h) >= 2);
        }
        let new = h.round(&HOSTS);
        h.running(&new);
    }
    assert!(h.s.deployments.is_empty(), "{:?}", h.s.deployments);
    let app = h.s.apps.values().next().unwrap();
    assert!(h.s.instances.values().all(|i| i.config_ms == app.config_ms));
    assert_eq!(serving(&h), 4);
}

#[test]
fn locked_apps_refuse_without_force_and_kills_relaunch_or_scale() {
    let mut h = Harness::new();
    h.call(
        "POST",
        "/apps",
        r#"{"id":"/k","cmd":"x","instances":2,"cpus":0.1,"mem":16}"#,
    );
    let r = h.call("PUT", "/apps/k", r#"{"instances":3}"#);
    assert_eq!(r.status, 409);
    assert!(r.body.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("force=true"));
    assert_eq!(
        h.call("PUT", "/apps/k?force=True", r#"{"instances":3}"#)
            .status,
        200
    );
    let tasks = h.round(&HOSTS);
    h.running(&tasks);
    assert!(h.s.deployments.is_empty());
    let t = tasks[0].task_id.to_string();
    let r = h.call("DELETE", &format!("/apps/k/tasks/{t}"), "");
    assert_eq!(r.status, 200);
    assert_eq!(h.kills(), vec![t.clone()]);
    h.report(&t, TaskState::Killed, None);
    assert_eq!(h.round(&HOSTS).len(), 1, "a kill without scale relaunches");
    let t2 = tasks[1].task_id.to_string();
    let r = h.call(
        "POST",
        "/tasks/delete?scale=true",
        &format!(r#"{{"ids":["{t2}"]}}"#),
    );
    assert_eq!(r.status, 200);
    assert_eq!(h.s.apps.values().next().unwrap().def.instances, 2);
}

#[test]
fn state_survives_a_store_round_trip() {
    let mut h = Harness::new();
    h.call(
        "POST",
        "/apps",
        r#"{"id":"/p/q","cmd":"x","instances":2,"cpus":0.1,"mem":16}"#,
    );
    let tasks = h.round(&HOSTS);
    h.s.set_framework_id("fw-1");
    let records: BTreeMap<String, Vec<u8>> =
        h.s.take_writes()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
    let (back, bad) = Services::restore("*", &records);
    assert!(bad.is_empty());
    assert_eq!(back.framework_id.as_deref(), Some("fw-1"));
    assert_eq!(back.apps, h.s.apps);
    assert_eq!(back.instances, h.s.instances);
    assert_eq!(back.deployments, h.s.deployments);
    assert!(back
        .instance_of_task(&tasks[0].task_id.to_string())
        .is_some());
}

#[test]
fn an_instance_killed_for_failing_checks_is_replaced_after_a_backoff() {
    let mut h = Harness::new();
    h.call(
        "POST",
        "/apps",
        r#"{"id":"/hc","cmd":"x","cpus":0.1,"mem":16,"backoffSeconds":3,
        "healthChecks":[{"protocol":"COMMAND","command":{"value":"false"}}]}"#,
    );
    let tasks = h.round(&HOSTS);
    let t = tasks[0].task_id.to_string();
    assert!(
        tasks[0].health_check.is_some(),
        "the check travels in the TaskInfo"
    );
    h.report(&t, TaskState::Running, Some(true));
    assert!(h.s.deployments.is_empty(), "healthy: deployed");
    h.report(&t, TaskState::Running, Some(false));
    let app = h.call("GET", "/apps/hc", "").body.unwrap();
    assert_eq!(app["app"]["tasksUnhealthy"], 1);
    h.report(&t, TaskState::Killed, Some(false));
    assert!(
        h.round(&HOSTS).is_empty(),
        "an unhealthy kill is a failure: backoff"
    );
    h.now_ms += 3_000;
    let again = h.round(&HOSTS);
    assert!(again[0].task_id.to_string().ends_with("._app.2"));
    let events = h.s.take_effects();
    assert!(events.iter().any(
        |e| matches!(e, Effect::Event(v) if v["eventType"] == "unhealthy_instance_kill_event")
    ));
}

#[test]
fn a_deployment_waits_for_readiness_and_asks_once_per_interval() {
    let mut h = Harness::new();
    let r = h.call(
        "POST",
        "/apps",
        r#"{"id":"/r","cmd":"x","cpus":0.1,"portDefinitions":[{"name":"http-api"}],
        "readinessChecks":[{"path":"/ready","intervalSeconds":5,"timeoutSeconds":1}]}"#,
    );
    assert_eq!(r.status, 201);
    let mut offer = h.offer("h1", "", 4.0);
    offer.url = Some(meso_api::v1::Url {
        scheme: "http".into(),
        address: meso_api::v1::Address {
            hostname: Some("h1".into()),
            ip: Some("10.0.0.7".into()),
            port: 5051,
        },
        path: Some("/slave(1)".into()),
        fragment: None,
    });
    let launched = h.s.offers(vec![offer], h.now_ms);
    let task = launched.launches[0].1[0].task_id.to_string();
    assert!(
        h.s.readiness_probes(h.now_ms).is_empty(),
        "not asked before it runs"
    );
    h.report(&task, TaskState::Running, None);
    let probes = h.s.readiness_probes(h.now_ms);
    assert_eq!(probes.len(), 1);
    assert_eq!(
        (probes[0].host.as_str(), probes[0].path.as_str()),
        ("10.0.0.7", "/ready")
    );
    assert!(
        h.s.readiness_probes(h.now_ms).is_empty(),
        "one ask in flight per task"
    );
    let not_yet = crate::readiness::HttpAnswer {
        status: 503,
        content_type: "text/plain".into(),
        body: "warming".into(),
    };
    h.s.readiness_answer(&task, Ok(not_yet), h.now_ms);
    h.tick();
    assert_eq!(h.s.deployments.len(), 1, "running is not enough");
    let d = h.call("GET", "/deployments", "").body.unwrap();
    let result = &d[0]["currentActions"][0]["readinessCheckResults"][0];
    assert_eq!(result["ready"], false);
    assert_eq!(result["lastResponse"]["status"], 503);
    assert_eq!(
        result["lastResponse"]["body"], "",
        "no body unless preserved"
    );
    h.now_ms += 4_000;
    assert!(
        h.s.readiness_probes(h.now_ms).is_empty(),
        "within the interval"
    );
    h.now_ms += 1_000;
    assert_eq!(
        h.s.readiness_probes(h.now_ms).len(),
        1,
        "after the interval"
    );
    h.s.readiness_answer(&task, Err("connection refused".into()), h.now_ms);
    h.tick();
    assert_eq!(h.s.deployments.len(), 1);
    h.now_ms += 5_000;
    assert_eq!(h.s.readiness_probes(h.now_ms).len(), 1);
    let ready = crate::readiness::HttpAnswer {
        status: 200,
        content_type: "text/plain".into(),
        body: String::new(),
    };
    h.s.readiness_answer(&task, Ok(ready), h.now_ms);
    h.tick();
    assert!(h.s.deployments.is_empty(), "ready: the deployment is done");
    h.now_ms += 60_000;
    assert!(
        h.s.readiness_probes(h.now_ms).is_empty(),
        "a ready task is not asked again"
    );
    let (restored, bad) = Services::restore("*", &stored(&mut h.s));
    assert!(bad.is_empty());
    let i = restored.instance_of_task(&task).unwrap();
    assert!(i.serving(false, true), "readiness survives a failover");
}

#[test]
fn a_list_of_apps_changes_in_one_deployment_or_not_at_all() {
    let mut h = Harness::new();
    let r = h.call(
        "PUT",
        "/apps",
        r#"[{"id":"/l/a","cmd":"x","instances":0},{"id":"/l/b","cmd":"x","cpus":"many"}]"#,
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body.unwrap()["details"][0]["path"], "/(1)/cpus");
    assert!(h.s.apps.is_empty(), "nothing half-written");
    let r = h.call(
        "PUT",
        "/apps",
        r#"[{"id":"/l/a","cmd":"x","instances":0},{"id":"/l/a","cmd":"y"}]"#,
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.body.unwrap()["details"][0]["path"], "/(1)/id");
    let r = h.call(
        "PUT",
        "/apps",
        r#"[{"id":"/l/a","cmd":"x","instances":1},{"id":"/l/b","cmd":"x","instances":1}]"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(h.s.apps.len(), 2);
    assert_eq!(h.s.deployments.len(), 1, "one deployment for the list");
    let d = h.call("GET", "/deployments", "").body.unwrap();
    assert_eq!(d[0]["affectedApps"], serde_json::json!(["/l/a", "/l/b"]));
    assert_eq!(d[0]["totalSteps"], 2);
    let instances = |h: &mut Harness| {
        let listed = h.call("GET", "/apps", "");
        let listed: serde_json::Value =
            serde_json::from_str(listed.raw.as_deref().unwrap()).unwrap();
        listed["apps"][1]["instances"].clone()
    };
    assert_eq!(instances(&mut h), 1);
    let r = h.call("PUT", "/apps/l/b?force=true", r#"{"instances":3}"#);
    assert_eq!(r.status, 200);
    assert_eq!(
        instances(&mut h),
        3,
        "the list shows the change, not a stale text"
    );
}

/// The records the core would have written so far.
fn stored(s: &mut Services) -> BTreeMap<String, Vec<u8>> {
    s.take_writes()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

fn inverse_offer(id: &str, host: &str) -> InverseOffer {
    InverseOffer {
        id: OfferId::new(id),
        url: None,
        framework_id: FrameworkId::new("fw"),
        agent_id: Some(AgentId::new(format!("agent-{host}"))),
        unavailability: meso_api::v1::Unavailability {
            start: meso_api::v1::TimeInfo { nanoseconds: 0 },
            duration: None,
        },
        resources: Resources::default(),
    }
}

/// Maintenance: the instance on the agent the master asks back is replaced on another
/// agent first and killed only once the replacement runs; nothing new goes to the leaving
/// agent; the instances elsewhere are left alone.
#[test]
fn an_instance_on_an_agent_asked_back_is_replaced_before_it_is_killed() {
    let mut h = Harness::new();
    h.call("POST", "/apps", r#"{"id":"/m","cmd":"x","instances":2,"cpus":0.1,"mem":16,"constraints":[["hostname","UNIQUE"]]}"#);
    let tasks = h.round(&HOSTS[..2]);
    assert_eq!(tasks.len(), 2);
    h.running(&tasks);
    h.kills();
    let on_h1 = tasks
        .iter()
        .find(|t| t.agent_id.as_str() == "agent-h1")
        .expect("one on h1")
        .task_id
        .to_string();
    let accepted = h.s.agents_leaving(&[inverse_offer("io-1", "h1")]);
    assert_eq!(accepted, ["io-1"]);
    h.tick();
    assert!(
        h.kills().is_empty(),
        "nothing is killed before its replacement runs"
    );
    // The leaving agent's offer is declined; the replacement goes to h3.
    let offers = vec![h.offer("h1", "", 4.0), h.offer("h3", "", 4.0)];
    let round = h.s.offers(offers, h.now_ms);
    let launched: Vec<TaskInfo> = round.launches.into_iter().flat_map(|(_, t)| t).collect();
    assert_eq!(launched.len(), 1, "one replacement");
    assert_eq!(launched[0].agent_id.as_str(), "agent-h3");
    assert_eq!(round.declines.len(), 1);
    assert!(h.kills().is_empty());
    h.running(&launched);
    assert_eq!(
        h.kills(),
        std::slice::from_ref(&on_h1),
        "the old one goes once the new one runs"
    );
    h.report(&on_h1, TaskState::Killed, None);
    assert!(
        h.round(&HOSTS).is_empty(),
        "two instances run: nothing more"
    );
    let running: BTreeSet<String> =
        h.s.instances
            .values()
            .filter_map(|i| i.task.as_ref().map(|t| t.agent_id.clone()))
            .collect();
    assert_eq!(running, ["agent-h2", "agent-h3"].map(String::from).into());
    // The maintenance is cancelled: h1 takes new work again.
    h.s.inverse_offer_rescinded("io-1");
    assert!(!h.s.is_leaving("agent-h1"));
}
