//! Container images: Mesos's `ContainerInfo.MesosInfo` and `Image` (JSON names as Mesos's
//! `mesos.proto`), and how meso reads an image as a task's root filesystem
//! ([`rootfs_of_name`], pure; `ContainerInfo::rootfs_image` in `rootfs.rs` applies it to a
//! task's container).
//!
//! meso has no image store or registry client. It reads a `DOCKER` image's `name` as a
//! path on the agent:
//! - an absolute path ending in `.tar`, `.tar.gz` or `.tgz` is a tarball the agent unpacks
//!   into the task's sandbox and uses as its root ([`RootfsImage::Tarball`]);
//! - any other absolute path is a directory used in place as the root
//!   ([`RootfsImage::Directory`]).
//!
//! Anything else is refused with a message saying what meso reads: `APPC` images, a
//! `DOCKER` image without `docker`, a relative name, a name with `.`/`..` components or a
//! NUL, the host's `/` itself, and an image on a container of type `DOCKER`. `cached` is
//! accepted and ignored (a path is always read as it is now).
//!
//! Invariant: a [`RootfsImage`] path is absolute, has only normal components and is not
//! `/`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::json::lenient_or_bool;
use crate::labels::Labels;

fn yes() -> bool {
    true
}

mesos_enum!(
    /// The image format.
    ImageType {
        /// An AppC image (refused by meso).
        Appc = ("APPC", 1),
        /// A Docker image; meso reads its name as a path on the agent.
        Docker = ("DOCKER", 2),
    }
);

/// An AppC image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppcImage {
    /// Image name (required).
    pub name: String,
    /// Image hash (`sha512-...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Labels (version, os, arch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
}

/// A Docker image. Mesos's `credential` and `config` are not kept (meso pulls nothing).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DockerImage {
    /// Image name (required); for meso, a path on the agent.
    pub name: String,
}

/// A container image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Image {
    /// Format (required).
    #[serde(rename = "type")]
    pub kind: ImageType,
    /// Set for `APPC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appc: Option<AppcImage>,
    /// Set for `DOCKER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerImage>,
    /// Use a cached copy when there is one (default true).
    #[serde(default = "yes", deserialize_with = "lenient_or_bool::<_, true>")]
    pub cached: bool,
}

impl Image {
    /// A `DOCKER` image named `name` (for meso: a path on the agent).
    pub fn docker(name: impl Into<String>) -> Self {
        Image {
            kind: ImageType::Docker,
            appc: None,
            docker: Some(DockerImage { name: name.into() }),
            cached: true,
        }
    }
}

/// `ContainerInfo.mesos`: what the Mesos containerizer needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MesosInfo {
    /// The image to run the container in; unset means the host's filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

/// Where a container's root filesystem comes from on the agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RootfsImage {
    /// A directory on the agent, used in place.
    Directory(PathBuf),
    /// A tarball on the agent, unpacked into the sandbox.
    Tarball(PathBuf),
}

/// Tarball suffixes meso unpacks (with `tar`, which detects the compression).
pub const TARBALL_SUFFIXES: &[&str] = &[".tar", ".tar.gz", ".tgz"];

pub(super) fn refuse(reason: String) -> crate::Error {
    crate::Error::Invalid {
        what: "container image".into(),
        reason,
    }
}

/// Reads a `DOCKER` image name as a rootfs path on the agent (pure).
pub fn rootfs_of_name(name: &str) -> crate::Result<RootfsImage> {
    let path = Path::new(name);
    if name.contains('\0') {
        return Err(refuse(format!("image name {name:?} contains a NUL byte")));
    }
    if !path.is_absolute() {
        return Err(refuse(format!(
            "image name '{name}' is not an absolute path: meso reads a DOCKER image name as a \
             directory or a tarball ({}) on the agent",
            TARBALL_SUFFIXES.join(", ")
        )));
    }
    if name.split('/').any(|part| part == "." || part == "..") {
        return Err(refuse(format!(
            "image name '{name}' has '.' or '..' components"
        )));
    }
    if path.parent().is_none() {
        return Err(refuse(
            "image name '/' names the agent's own root, not a root filesystem".into(),
        ));
    }
    if TARBALL_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        Ok(RootfsImage::Tarball(path.to_path_buf()))
    } else {
        Ok(RootfsImage::Directory(path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::fixtures::{decode, decode_err, round_trip, sample_task};
    use crate::v1::{
        CommandInfo, ContainerInfo, ContainerType, ExecutorInfo, ExecutorType, TaskInfo,
    };
    use proptest::prelude::*;

    fn container(json: &str) -> ContainerInfo {
        decode(json)
    }

    #[test]
    fn a_mesos_client_image_is_read_with_mesos_json_names() {
        let c = container(
            r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"/srv/alpine",
                "credential":{"principal":"p"}},"cached":"false"}}}"#,
        );
        let image = c.mesos.as_ref().unwrap().image.as_ref().unwrap();
        assert_eq!(image.kind, ImageType::Docker);
        assert!(!image.cached);
        assert_eq!(
            c.rootfs_image().unwrap(),
            Some(RootfsImage::Directory("/srv/alpine".into()))
        );
        let json = round_trip(&c);
        assert!(
            json.contains(r#""mesos":{"image":{"type":"DOCKER","docker":{"name":"/srv/alpine"}"#),
            "{json}"
        );
        let plain = container(r#"{"type":"MESOS"}"#);
        assert_eq!(plain.rootfs_image().unwrap(), None);
        assert!(
            decode_err::<ContainerInfo>(r#"{"type":"MESOS","mesos":{"image":{}}}"#)
                .contains("type")
        );
    }

    #[test]
    fn tarball_names_are_tarballs_other_paths_directories() {
        for name in ["/img/a.tar", "/img/a.tar.gz", "/img/a.tgz"] {
            assert_eq!(
                rootfs_of_name(name).unwrap(),
                RootfsImage::Tarball(name.into())
            );
        }
        assert_eq!(
            rootfs_of_name("/img/a.tar/").unwrap(),
            RootfsImage::Directory("/img/a.tar/".into())
        );
    }

    #[test]
    fn unreadable_images_are_refused_naming_the_value() {
        let cases = [
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"APPC","appc":{"name":"x"}}}}"#,
                "APPC",
            ),
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER"}}}"#,
                "'docker'",
            ),
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"alpine:3"}}}}"#,
                "'alpine:3' is not an absolute path",
            ),
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"/srv/../etc"}}}}"#,
                "'/srv/../etc'",
            ),
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"/srv/./x"}}}}"#,
                "'/srv/./x'",
            ),
            (
                r#"{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"/"}}}}"#,
                "'/'",
            ),
            (
                r#"{"type":"DOCKER","mesos":{"image":{"type":"DOCKER","docker":{"name":"/srv/x"}}}}"#,
                "type MESOS",
            ),
        ];
        for (json, needle) in cases {
            let err = container(json).rootfs_image().unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
        assert!(rootfs_of_name("/srv/a\0b").is_err());
    }

    fn with_image(mut task: TaskInfo, name: &str) -> TaskInfo {
        let c = task.container.get_or_insert(ContainerInfo {
            kind: ContainerType::Mesos,
            volumes: vec![],
            hostname: None,
            mesos: None,
        });
        c.mesos = Some(MesosInfo {
            image: Some(Image::docker(name)),
        });
        task
    }

    #[test]
    fn task_validation_checks_images_and_where_they_are_named() {
        let mut task = sample_task();
        task.container = None;
        assert!(with_image(task.clone(), "/srv/root").validate().is_ok());
        let err = with_image(task.clone(), "busybox").validate().unwrap_err();
        assert!(err.to_string().contains("task 'web-1'"), "{err}");
        assert!(err.to_string().contains("busybox"), "{err}");

        let mut executor = ExecutorInfo {
            kind: Some(ExecutorType::Custom),
            executor_id: crate::v1::ExecutorId::new("e"),
            framework_id: None,
            command: Some(CommandInfo::shell("run")),
            container: None,
            resources: crate::Resources::new(),
            name: None,
            data: None,
            shutdown_grace_period: None,
            labels: None,
        };
        let mut custom = task.clone();
        custom.command = None;
        custom.executor = Some(executor.clone());
        assert!(custom.validate().is_ok());
        let err = with_image(custom.clone(), "/srv/root")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("executor.container"), "{err}");
        executor.container = with_image(task.clone(), "relative").container;
        custom.executor = Some(executor);
        let err = custom.validate().unwrap_err();
        assert!(err.to_string().contains("executor: "), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn any_name_is_read_or_refused_never_panics(name in "[/a-z.\\x00]{0,12}") {
            match rootfs_of_name(&name) {
                Ok(RootfsImage::Directory(p)) | Ok(RootfsImage::Tarball(p)) => {
                    prop_assert!(p.is_absolute());
                    prop_assert!(p.parent().is_some());
                    prop_assert!(!name.split('/').any(|c| c == "." || c == ".."));
                }
                Err(e) => prop_assert!(e.to_string().contains("container image")),
            }
        }
    }
}
