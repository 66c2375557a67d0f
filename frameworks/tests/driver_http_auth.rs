//! The HTTP driver's credential through the public API, against the kit's master with
//! `--authenticate-http-frameworks` (HTTP Basic against a credentials list): a driver given
//! the credential subscribes (every call carries it as `Authorization: Basic`); one without,
//! or with a wrong secret, is refused with the master's 401 and told so. Waits are hang
//! guards.

use std::sync::mpsc;
use std::time::Duration;

use libprocess::Node;
use meso_api::authentication::Credential;
use meso_api::http::auth::{Credentials, HttpAuthenticator, NodeKind, Realm};
use meso_api::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use meso_frameworks::{DriverActions, Scheduler, SchedulerDriver};
use meso_testkit::master_harness::Cluster;

/// Reports registration or the driver's error.
struct Outcome(mpsc::Sender<String>);

impl Scheduler for Outcome {
    fn registered(&mut self, _: &mut DriverActions<'_>, id: &FrameworkId, _: &MasterInfo) {
        let _ = self.0.send(format!("registered {id}"));
    }
    fn error(&mut self, _: &mut DriverActions<'_>, message: &str) {
        let _ = self.0.send(format!("error {message}"));
    }
    fn resource_offers(&mut self, _: &mut DriverActions<'_>, _: Vec<Offer>) {}
    fn status_update(&mut self, _: &mut DriverActions<'_>, _: &TaskStatus) {}
}

/// What a driver over HTTP with `credential` is told first.
async fn first_word(cluster: &Cluster, credential: Option<Credential>) -> String {
    let (tx, rx) = mpsc::channel();
    let info = FrameworkInfo::new("tester", "basic");
    let master = cluster.master.upid().clone();
    let mut driver = SchedulerDriver::new(master, info, Box::new(Outcome(tx))).over_http();
    if let Some(c) = credential {
        driver = driver.with_credential(c, Duration::from_secs(5));
    }
    let node = Node::builder().build().await.expect("node starts");
    let _driver = node.spawn(driver).expect("driver spawns");
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .expect("the waiting thread")
        .expect("hang guard: registered or refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_credential_is_sent_as_basic_and_a_driver_without_it_is_refused() {
    let mut config = Cluster::config();
    let list = r#"{"credentials": [{"principal": "fw", "secret": "fw-secret"}]}"#;
    let credentials = Credentials::parse(list).expect("credentials");
    let realms = [Realm::Framework];
    config.http_auth = HttpAuthenticator::new(NodeKind::Master, &realms, Some(credentials), None)
        .expect("authenticator");
    let cluster = Cluster::start(config).await;
    cluster.node.set_delegate(Some("master"));

    let ok = first_word(&cluster, Some(Credential::new("fw", "fw-secret"))).await;
    assert!(ok.starts_with("registered"), "{ok}");
    for credential in [None, Some(Credential::new("fw", "wrong"))] {
        let refused = first_word(&cluster, credential).await;
        assert!(
            refused.starts_with("error") && refused.contains("401"),
            "{refused}"
        );
    }
}
