//! `meso agent` flags. Each is kebab-case and also read from `MESO_<FLAG>` (e.g.
//! `MESO_WORK_DIR`); `meso agent --help` lists every flag with its default.
//! [`AgentFlags::to_config`] checks them and probes the machine, producing an
//! [`AgentConfig`](crate::agent::AgentConfig).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use libprocess::Upid;
use meso_api::attributes::Attributes;
use meso_api::http::auth::{Credentials, HttpAuthenticator, JwtKey, NodeKind, Realm};

pub mod fetcher;
pub mod gc;
pub mod isolation;
pub mod oversubscription;
pub mod recovery;
pub mod tls;
pub use fetcher::FetcherFlags;
pub use gc::GcFlags;
pub use isolation::IsolationFlags;
pub use oversubscription::OversubscriptionFlags;
pub use recovery::RecoveryFlags;
pub use tls::TlsFlags;

use crate::agent::AgentConfig;
use crate::detect::{agent_resources, MachineFacts};
use crate::error::AgentError;
use meso_api::duration::parse_duration;

/// Flags of `meso agent`.
#[derive(Debug, Clone, Args)]
pub struct AgentFlags {
    /// The master, as `host:port` (or `master@host:port`).
    #[arg(long, env = "MESO_MASTER")]
    pub master: String,
    /// IP address to listen on and to advertise.
    #[arg(long, env = "MESO_IP", default_value = "127.0.0.1")]
    pub ip: IpAddr,
    /// Port to listen on (actor messages and HTTP).
    #[arg(long, env = "MESO_PORT", default_value_t = 5051)]
    pub port: u16,
    /// Hostname to report to the master [default: the system's hostname].
    #[arg(long, env = "MESO_HOSTNAME")]
    pub hostname: Option<String>,
    /// Directory for sandboxes and agent state (required).
    #[arg(long, env = "MESO_WORK_DIR")]
    pub work_dir: PathBuf,
    /// Total resources, `name(role):value;...` or a JSON array; named resources replace the
    /// detected ones [default: detected cpus, mem, disk, ports:[31000-32000]]. As
    /// `file:///path` the value is read from that file, again on SIGHUP (the change is then
    /// applied online, as UPDATE_AGENT).
    #[arg(long, env = "MESO_RESOURCES")]
    pub resources: Option<String>,
    /// Attributes, `name:value;...`; as `file:///path` read from that file, again on SIGHUP.
    #[arg(long, env = "MESO_ATTRIBUTES")]
    pub attributes: Option<String>,
    /// How long an executor has to subscribe before it is killed.
    #[arg(
        long,
        env = "MESO_EXECUTOR_REGISTRATION_TIMEOUT",
        default_value = "1mins"
    )]
    pub executor_registration_timeout: String,
    /// How long an executor has to exit after SHUTDOWN before it is killed.
    #[arg(
        long,
        env = "MESO_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        default_value = "5secs"
    )]
    pub executor_shutdown_grace_period: String,
    /// Initial (re)registration backoff; doubled per attempt up to 1 min, with jitter.
    #[arg(
        long,
        env = "MESO_REGISTRATION_BACKOFF_FACTOR",
        default_value = "1secs"
    )]
    pub registration_backoff_factor: String,
    /// Program run as `<path> executor` for command tasks [default: this `meso` binary].
    #[arg(long, env = "MESO_COMMAND_EXECUTOR")]
    pub command_executor: Option<PathBuf>,
    /// The isolators and their settings.
    #[command(flatten)]
    pub isolation: IsolationFlags,
    /// Require credentials on the read-only HTTP endpoints (`/state`, `/flags`,
    /// `/metrics/snapshot`, `/containers`, `/monitor/statistics`, `/files/*`; `/health` and
    /// `/version` stay open). Needs `--http-credentials` or `--jwt-secret-file`.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_READONLY")]
    pub authenticate_http_readonly: bool,
    /// Require credentials on the agent's v1 operator API (`/api/v1`, every call, as
    /// Mesos). Needs `--http-credentials` or `--jwt-secret-file`.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_READWRITE")]
    pub authenticate_http_readwrite: bool,
    /// Require credentials on the v1 executor API (`/api/v1/executor`). Needs
    /// `--jwt-secret-file`: the agent gives each executor a token signed with it
    /// (`MESOS_EXECUTOR_AUTHENTICATION_TOKEN`), valid only for that executor's own calls.
    #[arg(long, env = "MESO_AUTHENTICATE_HTTP_EXECUTORS")]
    pub authenticate_http_executors: bool,
    /// Principals and secrets accepted by HTTP Basic authentication, a JSON file as Mesos's
    /// `--http_credentials`: `{"credentials":[{"principal":"ops","secret":"..."}]}`.
    #[arg(long, alias = "credentials", env = "MESO_HTTP_CREDENTIALS")]
    pub http_credentials: Option<PathBuf>,
    /// The principal and secret this agent authenticates to the master with (CRAM-MD5;
    /// the secret never travels), a file as Mesos's `--credential`: JSON
    /// `{"principal":"agent","secret":"..."}` or one line `principal secret`. Needed when the
    /// master runs with `--authenticate-agents`.
    #[arg(long, env = "MESO_CREDENTIAL")]
    pub credential: Option<PathBuf>,
    /// Time one authentication attempt may take before the agent drops it; the next attempt
    /// comes with the registration backoff (Mesos's `--authentication_timeout_min`).
    #[arg(long, env = "MESO_AUTHENTICATION_TIMEOUT", default_value = "5secs")]
    pub authentication_timeout: String,
    /// A file whose bytes (all of them, a trailing newline included) are the HS256 key of
    /// bearer JWTs (`Authorization: Bearer <token>`), accepted beside HTTP Basic (Mesos's
    /// `--jwt_secret_key`).
    #[arg(long, env = "MESO_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// Who may read which endpoints and sandboxes: a JSON file in Mesos's ACL format
    /// (`get_endpoints`, `access_sandboxes`, `access_mesos_logs`, `view_*`; every Mesos
    /// action key accepted). Refusals are 403 naming the action; `/state` shows each
    /// principal only what it may view. Without it everything is allowed.
    #[arg(long, env = "MESO_ACLS")]
    pub acls: Option<PathBuf>,
    /// Run each task as its user: `CommandInfo.user`, else the executor's, else
    /// `FrameworkInfo.user` (as Mesos's `--switch_user`, on by default). The agent must run
    /// as root to switch; an unknown user fails the task naming it. `--switch-user=false`
    /// runs every task as the agent's own user.
    #[arg(long, env = "MESO_SWITCH_USER", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub switch_user: bool,
    /// What a restarted agent does with its checkpointed executors and tasks.
    #[command(flatten)]
    pub recovery: RecoveryFlags,
    /// Revocable resources from measured slack, and the QoS controller that takes them back.
    #[command(flatten)]
    pub oversubscription: OversubscriptionFlags,
    /// The URI fetcher and its cache.
    #[command(flatten)]
    pub fetcher: FetcherFlags,
    /// Garbage collection of finished sandboxes.
    #[command(flatten)]
    pub gc: GcFlags,
    /// `--ssl-*`: TLS on the agent's port and its connections to the master.
    #[command(flatten)]
    pub tls: TlsFlags,
}

fn duration_flag(flag: &'static str, value: &str) -> Result<Duration, AgentError> {
    parse_duration(value).map_err(|reason| AgentError::Flag {
        flag,
        value: value.to_string(),
        reason,
    })
}

/// A flag's value: the text itself, or the contents of the file a `file://` value names
/// (without the trailing newline), as Mesos's flags read them.
pub fn flag_value(flag: &'static str, value: &str) -> Result<String, AgentError> {
    let Some(path) = value.strip_prefix("file://") else {
        return Ok(value.to_string());
    };
    std::fs::read_to_string(path)
        .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| AgentError::Flag {
            flag,
            value: value.to_string(),
            reason: format!("cannot read the file: {e}"),
        })
}

/// `host:port` or `master@host:port` to the master's `Upid`.
pub fn master_upid(text: &str) -> Result<Upid, AgentError> {
    let bad = |reason: String| AgentError::Flag {
        flag: "--master",
        value: text.to_string(),
        reason,
    };
    let (id, host_port) = match text.split_once('@') {
        Some((id, rest)) => (id, rest),
        None => ("master", text),
    };
    let addr: SocketAddr = host_port
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))?;
    if id.is_empty() {
        return Err(bad("empty process id before '@'".into()));
    }
    Ok(Upid::new(id, addr))
}

impl AgentFlags {
    /// Checks the flags, creates the work dir and detects resources.
    pub fn to_config(&self) -> Result<AgentConfig, AgentError> {
        let detector = meso_api::detector::MasterDetector::parse(&self.master).map_err(|e| {
            AgentError::Flag {
                flag: "--master",
                value: self.master.clone(),
                reason: e.reason,
            }
        })?;
        let master = detector.current().clone();
        let masters = detector.masters()[1..].to_vec();
        std::fs::create_dir_all(&self.work_dir).map_err(|source| AgentError::Io {
            what: "creating the work dir",
            path: self.work_dir.display().to_string(),
            source,
        })?;
        let work_dir = self
            .work_dir
            .canonicalize()
            .map_err(|source| AgentError::Io {
                what: "resolving the work dir",
                path: self.work_dir.display().to_string(),
                source,
            })?;
        let (resources, attributes) = self.resources_and_attributes(&work_dir)?;
        let hostname = match &self.hostname {
            Some(h) => h.clone(),
            None => nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| self.ip.to_string()),
        };
        let command_executor = match &self.command_executor {
            Some(p) => p.clone(),
            None => std::env::current_exe().map_err(|source| AgentError::Io {
                what: "finding this binary for the command executor",
                path: "current_exe".into(),
                source,
            })?,
        };
        let fetcher = self.fetcher.config(&work_dir)?;
        Ok(AgentConfig {
            master,
            masters,
            hostname,
            work_dir,
            resources,
            attributes,
            executor_registration_timeout: duration_flag(
                "--executor-registration-timeout",
                &self.executor_registration_timeout,
            )?,
            executor_shutdown_grace_period: duration_flag(
                "--executor-shutdown-grace-period",
                &self.executor_shutdown_grace_period,
            )?,
            registration_backoff_factor: duration_flag(
                "--registration-backoff-factor",
                &self.registration_backoff_factor,
            )?,
            command_executor,
            http_auth: self.http_authenticator()?,
            recovery: self.recovery.config()?,
            oversubscription: self.oversubscription.config()?,
            fetcher,
            gc: self.gc.config()?,
            switch_user: self.switch_user,
            authentication: self.authentication()?,
            acls: match &self.acls {
                Some(path) => Some(std::sync::Arc::new(read_acls(path)?)),
                None => None,
            },
        })
    }

    /// `--resources` (over the detected machine) and `--attributes`, each read from its
    /// file when given as `file:///path` (Mesos's form for flag values). Called at start and
    /// again on SIGHUP, when the files may have changed.
    pub fn resources_and_attributes(
        &self,
        work_dir: &std::path::Path,
    ) -> Result<(meso_api::Resources, Attributes), AgentError> {
        let facts = MachineFacts::probe(work_dir);
        let resources_text = self
            .resources
            .as_deref()
            .map(|v| flag_value("--resources", v))
            .transpose()?;
        let resources = agent_resources(resources_text.as_deref(), &facts)?;
        let attributes = match &self.attributes {
            Some(value) => {
                let text = flag_value("--attributes", value)?;
                Attributes::parse(&text).map_err(|e| AgentError::Flag {
                    flag: "--attributes",
                    value: text.clone(),
                    reason: e.to_string(),
                })?
            }
            None => Attributes::default(),
        };
        Ok((resources, attributes))
    }

    /// `--credential` (read now; a missing or garbled file stops the start, naming it) and
    /// `--authentication-timeout`.
    pub fn authentication(
        &self,
    ) -> Result<crate::agent::authentication::AgentAuthentication, AgentError> {
        let timeout = duration_flag("--authentication-timeout", &self.authentication_timeout)?;
        if timeout.is_zero() {
            return Err(AgentError::Flag {
                flag: "--authentication-timeout",
                value: self.authentication_timeout.clone(),
                reason: "must be greater than 0".into(),
            });
        }
        let credential = match &self.credential {
            Some(path) => {
                let error = |reason: String| AgentError::Flag {
                    flag: "--credential",
                    value: path.display().to_string(),
                    reason,
                };
                let text = std::fs::read_to_string(path)
                    .map_err(|e| error(format!("cannot read it: {e}")))?;
                Some(
                    meso_api::authentication::Credential::parse(&text)
                        .map_err(|e| error(e.to_string()))?,
                )
            }
            None => None,
        };
        Ok(crate::agent::authentication::AgentAuthentication {
            credential,
            timeout,
        })
    }

    /// The HTTP authentication the flags ask for, with the credentials and key files read
    /// now: a missing or garbled file stops the start with the file and the problem named.
    pub fn http_authenticator(&self) -> Result<HttpAuthenticator, AgentError> {
        let realms: Vec<Realm> = [
            (self.authenticate_http_readonly, Realm::Readonly),
            (self.authenticate_http_readwrite, Realm::Readwrite),
            (self.authenticate_http_executors, Realm::Executor),
        ]
        .into_iter()
        .filter_map(|(on, realm)| on.then_some(realm))
        .collect();
        let file_error = |flag: &'static str, path: &PathBuf, reason: String| AgentError::Flag {
            flag,
            value: path.display().to_string(),
            reason,
        };
        let credentials = match &self.http_credentials {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    file_error("--http-credentials", path, format!("cannot read it: {e}"))
                })?;
                Some(
                    Credentials::parse(&text)
                        .map_err(|e| file_error("--http-credentials", path, e.to_string()))?,
                )
            }
            None => None,
        };
        let key = match &self.jwt_secret_file {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    file_error("--jwt-secret-file", path, format!("cannot read it: {e}"))
                })?;
                if bytes.is_empty() {
                    return Err(file_error(
                        "--jwt-secret-file",
                        path,
                        "the file is empty, so any token could be forged".into(),
                    ));
                }
                Some(JwtKey(bytes))
            }
            None => None,
        };
        HttpAuthenticator::new(NodeKind::Agent, &realms, credentials, key).map_err(|e| {
            AgentError::Flag {
                flag: e.flag,
                value: "true".into(),
                reason: format!("needs {}", e.needs),
            }
        })
    }

    /// The address to listen on.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// Reads and parses the `--acls` file; the error names the flag, the file and the problem.
fn read_acls(path: &PathBuf) -> Result<meso_api::acl::Acls, AgentError> {
    let error = |reason: String| AgentError::Flag {
        flag: "--acls",
        value: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    meso_api::acl::Acls::parse(&text).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: AgentFlags,
    }

    #[test]
    fn resources_and_attributes_may_come_from_files_read_again_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let res = dir.path().join("resources");
        let attrs = dir.path().join("attributes");
        std::fs::write(&res, "cpus:2;mem:1024\n").unwrap();
        std::fs::write(&attrs, "rack:r1\n").unwrap();
        let cli = Cli::try_parse_from([
            "agent",
            "--master",
            "127.0.0.1:5050",
            "--work-dir",
            dir.path().to_str().unwrap(),
            "--resources",
            &format!("file://{}", res.display()),
            "--attributes",
            &format!("file://{}", attrs.display()),
        ])
        .unwrap();
        let config = cli.flags.to_config().unwrap();
        assert_eq!(config.resources.cpus().unwrap().to_string(), "2");
        assert_eq!(config.attributes.to_string(), "rack:r1");
        std::fs::write(&res, "cpus:6;mem:1024").unwrap();
        std::fs::write(&attrs, "rack:r2;zone:z").unwrap();
        let (r, a) = cli.flags.resources_and_attributes(dir.path()).unwrap();
        assert_eq!(r.cpus().unwrap().to_string(), "6");
        assert_eq!(a.to_string(), "rack:r2;zone:z");
        std::fs::remove_file(&attrs).unwrap();
        let e = cli
            .flags
            .resources_and_attributes(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--attributes") && e.contains("cannot read"),
            "{e}"
        );
    }

    #[test]
    fn defaults_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::try_parse_from([
            "agent",
            "--master",
            "127.0.0.1:5050",
            "--work-dir",
            dir.path().to_str().unwrap(),
            "--resources",
            "cpus:2;mem:1024",
            "--attributes",
            "rack:r1",
        ])
        .unwrap();
        assert_eq!(cli.flags.port, 5051);
        let config = cli.flags.to_config().unwrap();
        assert_eq!(config.master.to_string(), "master@127.0.0.1:5050");
        assert_eq!(config.resources.cpus().unwrap().to_string(), "2");
        assert!(config.resources.disk().is_some());
        assert_eq!(
            config.executor_registration_timeout,
            Duration::from_secs(60)
        );
        assert_eq!(
            config.executor_shutdown_grace_period,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let parse = |extra: &[&str]| {
            let mut args = vec![
                "agent",
                "--master",
                "127.0.0.1:5050",
                "--work-dir",
                dir.path().to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
                .unwrap()
                .flags
                .to_config()
                .unwrap_err()
                .to_string()
        };
        assert!(parse(&["--executor-registration-timeout", "5"])
            .contains("--executor-registration-timeout"));
        assert!(parse(&["--attributes", "rack"]).contains("--attributes"));
        assert!(parse(&["--resources", "cpus:x"]).contains("--resources"));
        assert!(master_upid("nowhere")
            .unwrap_err()
            .to_string()
            .contains("--master"));
        assert!(
            Cli::try_parse_from(["agent", "--master", "m:1"]).is_err(),
            "work dir is required"
        );
    }

    #[test]
    fn http_authentication_flags_are_checked_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().to_str().unwrap();
        let parse = |extra: &[&str]| {
            let mut args = vec!["agent", "--master", "127.0.0.1:5050", "--work-dir", work];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
                .unwrap()
                .flags
                .http_authenticator()
        };
        let e = parse(&["--authenticate-http-readonly"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "--authenticate-http-readonly: needs --http-credentials or --jwt-secret-file"
            ),
            "{e}"
        );
        let missing = dir.path().join("absent.json");
        let missing = missing.to_str().unwrap();
        let e = parse(&["--authenticate-http-readonly", "--credentials", missing])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(missing) && e.contains("--http-credentials: cannot read it"),
            "{e}"
        );
        let creds = dir.path().join("creds.json");
        std::fs::write(
            &creds,
            r#"{"credentials":[{"principal":"ops","secret":"pw"}]}"#,
        )
        .unwrap();
        let creds = creds.to_str().unwrap();
        let e = parse(&["--authenticate-http-executors", "--http-credentials", creds])
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs --jwt-secret-file"), "{e}");
        let auth = parse(&["--authenticate-http-readwrite", "--http-credentials", creds]).unwrap();
        assert!(auth.guards(meso_api::http::auth::Realm::Readwrite));
        assert!(!auth.guards(meso_api::http::auth::Realm::Readonly));
    }
}
