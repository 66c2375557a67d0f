//! Scheduler drivers authenticating to a real master (in one process, over the node's
//! message transport): with `--authenticate-frameworks` a driver without a credential is
//! refused with Mesos's framework error, a wrong secret ends the driver with "Master
//! refused authentication", the right one registers; the authenticated principal must be
//! the one in `FrameworkInfo` (a mismatch is refused even without the flag) and fills it
//! in when absent. An exchange the client leaves unanswered ends with an
//! `AuthenticationError` after the master's timeout.

use std::sync::Arc;
use std::time::Duration;

use meso_api::authentication::Credential;
use meso_api::http::auth::Credentials;
use meso_api::v1::FrameworkInfo;
use meso_frameworks::SchedulerDriver;
use meso_testkit::master_harness::*;

fn config(require: bool) -> meso_master::MasterConfig {
    let mut config = Cluster::config();
    config.authentication.frameworks = require;
    config.authentication.credentials = Some(Arc::new(
        Credentials::parse("fw fw-secret\nother other-secret\n").expect("credentials"),
    ));
    config
}

fn framework(principal: Option<&str>) -> FrameworkInfo {
    let mut info = FrameworkInfo::new("nobody", "authn");
    info.principal = principal.map(str::to_string);
    info
}

/// Starts a driver with `credential` (if any); the first registration or error it reports.
async fn outcome(
    cluster: &Cluster,
    info: FrameworkInfo,
    credential: Option<(&str, &str)>,
) -> Result<meso_api::v1::FrameworkId, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut driver = SchedulerDriver::new(
        cluster.master.upid().clone(),
        info,
        Box::new(ChannelScheduler(tx)),
    );
    if let Some((p, s)) = credential {
        driver = driver.with_credential(Credential::new(p, s), Duration::from_secs(5));
    }
    cluster.node.spawn(driver).expect("driver spawns");
    next_matching(&mut rx, "registration or error", |e| match e {
        SchedEvent::Registered(id) => Some(Ok(id.clone())),
        SchedEvent::Error(message) => Some(Err(message.clone())),
        _ => None,
    })
    .await
}

fn principal_in_state(state: &serde_json::Value, id: &meso_api::v1::FrameworkId) -> String {
    state["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .find(|f| f["id"] == id.value.as_str())
        .and_then(|f| f["principal"].as_str())
        .unwrap_or("<none>")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_authenticate_frameworks_only_the_right_secret_registers() {
    let cluster = Cluster::start(config(true)).await;
    let why = outcome(&cluster, framework(Some("fw")), None)
        .await
        .expect_err("no credential");
    assert!(
        why.starts_with("Framework at ") && why.ends_with("is not authenticated"),
        "{why}"
    );
    let why = outcome(&cluster, framework(Some("fw")), Some(("fw", "wrong")))
        .await
        .expect_err("wrong secret");
    assert_eq!(why, "Master refused authentication");
    let why = outcome(&cluster, framework(Some("fw")), Some(("nobody", "x")))
        .await
        .expect_err("unknown principal");
    assert_eq!(why, "Master refused authentication");
    let id = outcome(&cluster, framework(Some("fw")), Some(("fw", "fw-secret")))
        .await
        .expect("the right secret registers");
    assert_eq!(principal_in_state(&cluster.state().await, &id), "fw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_framework_principal_must_be_the_authenticated_one() {
    // Without --authenticate-frameworks too: whoever authenticated speaks only for itself.
    let cluster = Cluster::start(config(false)).await;
    let why = outcome(
        &cluster,
        framework(Some("other")),
        Some(("fw", "fw-secret")),
    )
    .await
    .expect_err("principal mismatch");
    assert_eq!(
        why,
        "Framework principal 'other' does not match authenticated principal 'fw'"
    );
    // No principal: the authenticated one is filled in.
    let id = outcome(&cluster, framework(None), Some(("fw", "fw-secret")))
        .await
        .expect("registers");
    assert_eq!(principal_in_state(&cluster.state().await, &id), "fw");
    // Unauthenticated frameworks still register when the flag is off.
    outcome(&cluster, framework(Some("anyone")), None)
        .await
        .expect("no authentication required");
}

/// A client that opens an exchange and never answers: reports what the master sends.
struct Stalled {
    master: libprocess::Upid,
    seen: tokio::sync::mpsc::UnboundedSender<String>,
}

#[derive(Debug)]
enum StalledMsg {
    Mechanisms(meso_api::wire::AuthenticationMechanisms),
    Error(meso_api::wire::AuthenticationError),
}

impl From<meso_api::wire::AuthenticationMechanisms> for StalledMsg {
    fn from(m: meso_api::wire::AuthenticationMechanisms) -> Self {
        StalledMsg::Mechanisms(m)
    }
}

impl From<meso_api::wire::AuthenticationError> for StalledMsg {
    fn from(m: meso_api::wire::AuthenticationError) -> Self {
        StalledMsg::Error(m)
    }
}

impl libprocess::Process for Stalled {
    type Message = StalledMsg;

    fn base_name(&self) -> &str {
        "stalled"
    }

    fn install(h: &mut libprocess::Handlers<Self>) {
        h.on::<meso_api::wire::AuthenticationMechanisms>()
            .on::<meso_api::wire::AuthenticationError>();
    }

    fn initialize(&mut self, ctx: &mut libprocess::Context<Self>) {
        let pid = ctx.self_upid().to_string();
        let _ = ctx.send(&self.master, meso_api::wire::Authenticate { pid });
    }

    fn handle(&mut self, _ctx: &mut libprocess::Context<Self>, msg: StalledMsg) {
        let _ = self.seen.send(match msg {
            StalledMsg::Mechanisms(m) => format!("mechanisms {:?}", m.mechanisms),
            StalledMsg::Error(e) => format!("error {}", e.error.unwrap_or_default()),
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_left_unanswered_times_out() {
    let config = config(false);
    let timeout = config.authentication.timeout;
    let cluster = Cluster::start(config).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cluster
        .node
        .spawn(Stalled {
            master: cluster.master.upid().clone(),
            seen: tx,
        })
        .expect("client spawns");
    assert_eq!(
        next(&mut rx, "mechanisms").await,
        "mechanisms [\"CRAM-MD5\"]"
    );
    cluster.advance(timeout + Duration::from_secs(1), 1).await;
    assert_eq!(
        next(&mut rx, "timeout").await,
        "error authentication timed out"
    );
    // A timeout is not counted as refused credentials.
    let failures = cluster
        .node
        .metrics()
        .counter(meso_master::master::authentication::AUTHENTICATION_FAILURES)
        .get();
    assert_eq!(failures, 0);
}
