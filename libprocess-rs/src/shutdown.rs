//! The node's shutdown signal as the tasks that serve connections wait on it: the contract
//! between the transport (frames, the accept loop) and the HTTP server, so that neither
//! imports the other for it.

/// Completes when the node's shutdown flag is set.
pub(crate) async fn until_shutdown(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
