//! The master's record of applied offer operations (RESERVE, UNRESERVE, CREATE, DESTROY,
//! GROW_VOLUME, SHRINK_VOLUME, from an operator or a framework's ACCEPT) and the operator
//! call GET_OPERATIONS that shows it. Each applied operation is recorded finished (meso
//! applies them speculatively, see `meso_api::v1::operation_book`) and sent to its agent
//! (`OperationApplied`, after the checkpoint that carried it), whose own GET_OPERATIONS shows
//! the operations applied to it. Only operations of registered agents are shown, as Mesos.

use libprocess::http_types::{header, HeaderValue, StatusCode};
use libprocess::{Context, HttpReply, HttpResponse};
use meso_api::http::operator::{operator_response, MasterCallType};
use meso_api::v1::operation_book::{get_operations_json, OperationRecord};
use meso_api::v1::{AgentId, FrameworkId, Operation};
use meso_api::{wire, Resources};

use super::Master;

impl Master {
    /// Records `info`, applied to `agent` (for `framework`, or an operator when `None`)
    /// with `converted` the resources it produced, and tells the agent.
    pub(super) fn record_operation(
        &mut self,
        ctx: &Context<Self>,
        framework: Option<FrameworkId>,
        agent: &AgentId,
        info: Operation,
        converted: Resources,
    ) {
        let record = OperationRecord::finished(
            framework,
            agent.clone(),
            info,
            converted,
            ctx.uuid_v4().into_bytes(),
        );
        self.operations.book.record(record.clone());
        if let Some(pid) = self.agents.get(agent).map(|a| a.pid.clone()) {
            self.send_to_agent(ctx, &pid, wire::OperationApplied { record });
        }
    }

    /// GET_OPERATIONS: every recorded operation of a registered agent, oldest first.
    pub(super) fn get_operations(&self, reply: HttpReply) {
        let payload = get_operations_json(self.operations.book.iter().filter(|r| {
            r.agent_id
                .as_ref()
                .is_some_and(|a| self.agents.get(a).is_some())
        }));
        let kind = MasterCallType::GetOperations.as_str();
        let mut r = HttpResponse::text(StatusCode::OK, operator_response(kind, Some(&payload)));
        r.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        reply.respond(r);
    }
}
