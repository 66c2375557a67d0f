//! What the `v2` process writes to the Raft log and what waits on it: the records of each
//! change, proposed in batches under the log's command limit, with the API writes they
//! carry answered only once committed; and `DELETE /v2/leader`, which hands the log's
//! leadership (and the framework with it) to another master.

use libprocess::slog::info;
use libprocess::{Context, HttpReply, HttpResponse};
use meso_registry::Operation;
use serde_json::json;

use super::{json_response, ServicesMessage, ServicesProcess};

/// Most record bytes in one `PutServices` proposal: well under the Raft log's largest
/// command (1 MiB), so that a burst of writes (a thousand apps created at once) goes as
/// several proposals instead of one the log refuses.
const PROPOSAL_BYTES: usize = 512 * 1024;

impl ServicesProcess {
    /// Proposes the records changed since the last proposal (one proposal at a time); the
    /// API writes waiting for them are answered when it commits (`Persisted`).
    pub(super) fn persist(&mut self, ctx: &mut Context<Self>) {
        if self.persisting {
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        if !state.has_writes() {
            // Nothing to store (a write that changed nothing): answer now.
            for (reply, answer) in self.unstored.drain(..) {
                reply.respond(answer);
            }
            return;
        }
        let batches = proposals(state.take_writes(), PROPOSAL_BYTES);
        self.persisting = true;
        self.storing.append(&mut self.unstored);
        let log = self.log.clone();
        ctx.defer(
            async move {
                for writes in batches {
                    log.propose(Operation::PutServices(writes))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()))?;
                }
                Ok(())
            },
            ServicesMessage::Persisted,
        );
    }

    /// Marathon's `DELETE /v2/leader`: this framework leads with its master's Raft
    /// leadership, so abdicating hands that to another master (which then runs the
    /// framework); answered once the handover has started, as Marathon answers before it
    /// steps down.
    pub(super) fn abdicate(&mut self, ctx: &mut Context<Self>, reply: HttpReply) {
        let log = self.log.clone();
        ctx.defer(
            async move {
                (
                    log.transfer_leadership().await.map_err(|e| e.to_string()),
                    reply,
                )
            },
            |(result, reply)| ServicesMessage::Abdicated(result, reply),
        );
    }

    pub(super) fn abdicated(
        &mut self,
        ctx: &mut Context<Self>,
        result: Result<u64, String>,
        reply: HttpReply,
    ) {
        match result {
            Ok(to) => {
                info!(ctx.node().logger(), "services: leadership abdicated (DELETE /v2/leader)"; "to_raft_node" => to);
                reply.respond(json_response(
                    200,
                    &json!({"message": "Leadership abdicated"}),
                    &[],
                ));
            }
            Err(why) => reply.respond(json_response(
                503,
                &json!({"message": format!("cannot abdicate: {why}")}),
                &[],
            )),
        }
    }
}

/// Splits record writes into proposals of at most about `limit` bytes each, in order (a
/// single record larger than `limit` goes alone: the log then says whether it fits).
fn proposals(
    writes: Vec<(String, Option<Vec<u8>>)>,
    limit: usize,
) -> Vec<Vec<(String, Option<Vec<u8>>)>> {
    let mut out: Vec<Vec<(String, Option<Vec<u8>>)>> = Vec::new();
    let mut size = 0;
    for write in writes {
        let bytes = write.0.len() + write.1.as_ref().map_or(0, Vec::len) + 16;
        if out.is_empty() || size + bytes > limit {
            out.push(Vec::new());
            size = 0;
        }
        size += bytes;
        out.last_mut().expect("pushed above").push(write);
    }
    out
}

/// The answer to an API write whose change could not be committed: 503, so the client
/// looks at the state (on the new leader) and retries.
pub(super) fn not_stored(why: &str) -> HttpResponse {
    json_response(
        503,
        &json!({"message": format!("the change was not stored ({why}); it may be lost: check the state and retry")}),
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_split_into_proposals_under_the_limit_in_order() {
        let w = |k: &str, n: usize| (k.to_string(), Some(vec![0u8; n]));
        let writes = vec![
            w("a", 300),
            w("b", 300),
            (String::from("c"), None),
            w("d", 900),
        ];
        let batches = proposals(writes.clone(), 700);
        let keys: Vec<Vec<&str>> = batches
            .iter()
            .map(|b| b.iter().map(|(k, _)| k.as_str()).collect())
            .collect();
        assert_eq!(keys, [vec!["a", "b", "c"], vec!["d"]]);
        assert_eq!(batches.concat(), writes, "nothing lost or reordered");
        assert!(proposals(Vec::new(), 700).is_empty());
    }
}
