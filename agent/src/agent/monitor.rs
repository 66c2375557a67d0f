//! Container resource statistics: `/monitor/statistics` (a JSON array of
//! `{executor_id, executor_name, framework_id, source, statistics}`, HTTP reference §4.6) and
//! the operator API's GET_CONTAINERS (`resource_statistics` per container).
//!
//! The figures come from `Containerizer::usage`, whose futures own what they need: the agent
//! collects one per container inside its hook and a task awaits them and answers, so the
//! agent's process is never blocked on `/proc` or cgroup reads. A container whose usage
//! cannot be read (it just exited) is left out of `/monitor/statistics` and shown without
//! `resource_statistics` in GET_CONTAINERS.

use libprocess::{HttpReply, HttpResponse};
use meso_api::v1::ContainerId;
use meso_isolators::ResourceStatistics;
use serde_json::{json, Value};

use super::Agent;
use crate::containerizer::UsageFuture;

/// One container as the statistics endpoints name it.
#[derive(Debug, Clone)]
pub(crate) struct ContainerRow {
    pub(crate) framework_id: String,
    pub(crate) executor_id: String,
    pub(crate) executor_name: String,
    pub(crate) container_id: ContainerId,
}

impl ContainerRow {
    /// The `/monitor/statistics` entry.
    fn monitor_entry(&self, stats: &ResourceStatistics) -> Value {
        json!({
            "executor_id": self.executor_id,
            "executor_name": self.executor_name,
            "framework_id": self.framework_id,
            "source": self.executor_id,
            "statistics": stats,
        })
    }

    /// The GET_CONTAINERS entry.
    fn container_entry(&self, stats: Option<&ResourceStatistics>) -> Value {
        let mut c = json!({
            "framework_id": {"value": self.framework_id},
            "executor_id": {"value": self.executor_id},
            "executor_name": self.executor_name,
            "container_id": {"value": self.container_id.value},
        });
        if let Some(s) = stats {
            c["resource_statistics"] = json!(s);
        }
        c
    }
}

/// Builds the answer once every container's usage is known.
type Answer =
    Box<dyn FnOnce(Vec<(ContainerRow, Option<ResourceStatistics>)>) -> HttpResponse + Send>;

impl Agent {
    /// Every executor container on the agent.
    pub(super) fn container_rows(&self) -> Vec<ContainerRow> {
        self.frameworks
            .iter()
            .flat_map(|(fid, fw)| {
                fw.executors.values().map(move |ex| ContainerRow {
                    framework_id: fid.to_string(),
                    executor_id: ex.info.executor_id.to_string(),
                    executor_name: ex.info.name.clone().unwrap_or_default(),
                    container_id: ex.container_id.clone(),
                })
            })
            .collect()
    }

    /// Reads every container's usage, stamped `now_secs` (the node's wall clock), and
    /// answers with what `answer` makes of it.
    fn answer_with_usage(&self, reply: HttpReply, now_secs: f64, answer: Answer) {
        let work: Vec<(ContainerRow, UsageFuture)> = self
            .container_rows()
            .into_iter()
            .map(|row| {
                let usage = self.containerizer.usage(&row.container_id, now_secs);
                (row, usage)
            })
            .collect();
        let run = async move {
            let mut out = Vec::with_capacity(work.len());
            for (row, usage) in work {
                out.push((row, usage.await.ok()));
            }
            reply.respond(answer(out));
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(run);
            }
            Err(_) => {
                // Not on a runtime thread (not the case for HTTP hooks): read in place.
                futures_lite_block_on(run);
            }
        }
    }

    /// `/monitor/statistics`.
    pub(super) fn monitor_statistics(
        &self,
        reply: HttpReply,
        now_secs: f64,
        query: Option<String>,
    ) {
        self.answer_with_usage(
            reply,
            now_secs,
            Box::new(move |rows| {
                let list: Vec<Value> = rows
                    .iter()
                    .filter_map(|(row, stats)| stats.as_ref().map(|s| row.monitor_entry(s)))
                    .collect();
                let request_query = query;
                match meso_api::http::routing::json_or_jsonp(
                    request_query.as_deref(),
                    Value::Array(list).to_string(),
                ) {
                    Ok((ct, body)) => super::http_routes::body_response(ct, body),
                    Err(e) => super::http_routes::error_response(e),
                }
            }),
        );
    }

    /// GET_CONTAINERS, answered as `content_type`.
    pub(super) fn get_containers(
        &self,
        reply: HttpReply,
        now_secs: f64,
        content_type: &'static str,
    ) {
        self.answer_with_usage(
            reply,
            now_secs,
            Box::new(move |rows| {
                let containers: Vec<Value> = rows
                    .iter()
                    .map(|(row, stats)| row.container_entry(stats.as_ref()))
                    .collect();
                let body = super::operator_api::operator_answer(
                    "GET_CONTAINERS",
                    &json!({ "containers": containers }),
                );
                super::http_routes::body_response(content_type, body)
            }),
        );
    }
}

/// Runs `future` to completion on this thread (used only off a runtime).
fn futures_lite_block_on(future: impl std::future::Future<Output = ()>) {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt.block_on(future),
        Err(_) => drop(future),
    }
}
