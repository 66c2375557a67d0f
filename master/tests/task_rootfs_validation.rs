//! The master refuses a task whose container image meso cannot read as a root filesystem
//! (TASK_ERROR, REASON_TASK_INVALID, the message naming the image) and sends a task with a
//! readable one on to its agent: the pure `validate_task` and a real ACCEPT.

use meso_api::v1::{
    AgentId, ContainerInfo, ContainerType, FrameworkInfo, Image, ImageType, MesosInfo, TaskInfo,
    TaskState, TaskStatusReason,
};
use meso_master::master::validation::{validate_task, TaskError, ValidOffers};
use meso_testkit::master_harness::*;

fn in_image(mut task: TaskInfo, image: Image) -> TaskInfo {
    task.container = Some(ContainerInfo {
        kind: ContainerType::Mesos,
        volumes: vec![],
        hostname: None,
        mesos: Some(MesosInfo { image: Some(image) }),
    });
    task
}

#[test]
fn validation_refuses_images_meso_cannot_read() {
    let agent = AgentId::new("a");
    let offers = ValidOffers {
        agent: agent.clone(),
        role: "*".into(),
        resources: res("cpus:1;mem:128").allocate("*"),
    };
    let check = |task: &TaskInfo| validate_task(task, &offers, &offers.resources, |_| false);
    let task = command_task("t", &agent, "cpus:0.5;mem:32");
    assert!(check(&in_image(task.clone(), Image::docker("/srv/images/alpine"))).is_ok());
    assert!(check(&in_image(
        task.clone(),
        Image::docker("/srv/images/alpine.tgz")
    ))
    .is_ok());
    let appc = Image {
        kind: ImageType::Appc,
        appc: None,
        docker: None,
        cached: true,
    };
    for (image, needle) in [
        (Image::docker("alpine:3.19"), "alpine:3.19"),
        (Image::docker("/srv/../etc"), "/srv/../etc"),
        (appc, "APPC"),
    ] {
        match check(&in_image(task.clone(), image)) {
            Err(TaskError::Malformed { task, reason }) => {
                assert_eq!(task.as_str(), "t");
                assert!(reason.contains(needle), "{reason}");
            }
            other => panic!("expected a malformed task, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accept_with_an_unreadable_image_is_a_task_error() {
    let cluster = Cluster::start(Cluster::config()).await;
    let mut agent = cluster.add_agent("cpus:2;mem:256").await;
    let mut fw = cluster.add_framework(FrameworkInfo::new("u", "f")).await;
    let offer = first_offer(&mut fw).await;
    launch(
        &fw,
        vec![offer.id.clone()],
        vec![
            in_image(
                command_task("bad", &agent.id, "cpus:0.5;mem:32"),
                Image::docker("library/busybox"),
            ),
            in_image(
                command_task("good", &agent.id, "cpus:0.5;mem:32"),
                Image::docker("/srv/images/busybox"),
            ),
        ],
    );
    let refused = next_update(&mut fw).await;
    assert_eq!(refused.task_id.as_str(), "bad");
    assert_eq!(refused.state, TaskState::Error);
    assert_eq!(refused.reason, Some(TaskStatusReason::TaskInvalid));
    let message = refused.message.unwrap_or_default();
    assert!(message.contains("library/busybox"), "{message}");
    let sent = next_matching(&mut agent.events, "good", |e| match e {
        AgentEvent::RunTask(_, t) if t.task_id.as_str() == "good" => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        sent.container.and_then(|c| c.rootfs_image().ok().flatten()),
        Some(meso_api::v1::RootfsImage::Directory(
            "/srv/images/busybox".into()
        )),
        "the image reaches the agent as the framework wrote it"
    );
}
