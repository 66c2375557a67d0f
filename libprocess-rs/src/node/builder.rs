//! [`NodeBuilder`]: a node's configuration (bind address, advertised ip, clock, logger,
//! delegate, limits, and the spawner/transport/rng seams) and `build`, which checks the
//! limits and the delegate id, binds the listener and starts the accept loop. A node exists
//! only once its listener is bound: a failed build leaves nothing running.

use super::*;

/// Configures and starts a [`Node`].
pub struct NodeBuilder {
    bind: SocketAddr,
    advertise_ip: Option<IpAddr>,
    clock: Option<Arc<dyn Clock>>,
    logger: Option<Logger>,
    delegate: Option<String>,
    limits: Limits,
    spawner: Option<Arc<dyn Spawner>>,
    transport: Option<Arc<dyn Transport>>,
    rng: Option<Box<dyn Rng>>,
    tls: Option<crate::tls::Tls>,
}

impl NodeBuilder {
    /// The address to listen on (default `127.0.0.1:0`: loopback, any free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
    /// The IP written in this node's `Upid`s when listening on an unspecified address
    /// (default: loopback of the same family).
    pub fn advertise_ip(mut self, ip: IpAddr) -> Self {
        self.advertise_ip = Some(ip);
        self
    }
    /// The clock timers run on (default: real time).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Runs on a shared [`TestClock`] (several nodes may share one).
    pub fn test_clock(self, clock: &TestClock) -> Self {
        self.clock(Arc::new(clock.clone()))
    }
    /// Where the node logs (default: nowhere).
    pub fn logger(mut self, logger: Logger) -> Self {
        self.logger = Some(logger);
        self
    }
    /// The process that receives HTTP requests whose first path segment is no process.
    pub fn delegate(mut self, id: impl Into<String>) -> Self {
        self.delegate = Some(id.into());
        self
    }
    /// All limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Largest frame body sent or accepted (default 64 MiB).
    pub fn max_frame_bytes(mut self, n: usize) -> Self {
        self.limits.max_frame_bytes = n;
        self
    }
    /// Default mailbox capacity (default 65536).
    pub fn mailbox_capacity(mut self, n: usize) -> Self {
        self.limits.mailbox_capacity = n;
        self
    }
    /// Largest HTTP request body (default 16 MiB).
    pub fn max_http_body_bytes(mut self, n: usize) -> Self {
        self.limits.max_http_body_bytes = n;
        self
    }
    /// How background tasks are started (default: the current tokio runtime).
    pub fn spawner(mut self, spawner: Arc<dyn Spawner>) -> Self {
        self.spawner = Some(spawner);
        self
    }
    /// How the node listens and connects (default: TCP).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
    /// The random source (default: OS-seeded). Everything random on the node comes from it:
    /// ask correlation ids, and what actors draw through their `Context` (uuids, ids,
    /// jitter). A node restarted in a test should get a different seed, as a real restart
    /// would: some ids (a replicated log's incarnation) must differ across restarts.
    pub fn rng(mut self, rng: Box<dyn Rng>) -> Self {
        self.rng = Some(rng);
        self
    }
    /// Serves TLS on the port and opens every outgoing connection with TLS (see
    /// [`crate::tls`]). The configuration must have a certificate.
    pub fn tls(mut self, tls: crate::tls::Tls) -> Self {
        self.tls = Some(tls);
        self
    }
    /// A deterministic random source: [`StdRng::seeded`] with `seed`.
    pub fn seed(self, seed: u64) -> Self {
        self.rng(Box::new(StdRng::seeded(seed)))
    }

    /// Binds the listener and starts serving. Must run inside a tokio runtime.
    pub async fn build(self) -> Result<Node, NodeError> {
        let l = self.limits;
        for (name, value) in [
            ("max_frame_bytes", l.max_frame_bytes),
            ("mailbox_capacity", l.mailbox_capacity),
            ("outbound_queue_bytes", l.outbound_queue_bytes),
            ("max_http_body_bytes", l.max_http_body_bytes),
        ] {
            if value == 0 {
                return Err(NodeError::BadLimit { name, value });
            }
        }
        for (name, value) in [
            ("max_connections", l.max_connections),
            ("max_http_headers", l.max_http_headers),
            ("max_http_head_bytes", l.max_http_head_bytes),
        ] {
            if value == 0 {
                return Err(NodeError::BadLimit { name, value });
            }
        }
        for (name, value) in [
            ("first_bytes_timeout", l.first_bytes_timeout),
            ("http_header_timeout", l.http_header_timeout),
            ("http_body_timeout", l.http_body_timeout),
        ] {
            if value.is_zero() {
                return Err(NodeError::BadLimit { name, value: 0 });
            }
        }
        if self.tls.as_ref().is_some_and(|t| !t.serves()) {
            return Err(NodeError::TlsWithoutCertificate);
        }
        if let Some(d) = &self.delegate {
            if d.is_empty() || !d.chars().all(valid_id_char) {
                return Err(NodeError::InvalidDelegate(d.clone()));
            }
        }
        let transport = self.transport.unwrap_or_else(|| Arc::new(TcpTransport));
        let listener = transport
            .bind(self.bind)
            .await
            .map_err(|source| NodeError::Bind {
                addr: self.bind,
                source,
            })?;
        let mut addr = listener.local_addr().map_err(|source| NodeError::Bind {
            addr: self.bind,
            source,
        })?;
        if addr.ip().is_unspecified() {
            addr.set_ip(self.advertise_ip.unwrap_or(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            }));
        }
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        let test_clock = clock.as_test_clock();
        let logger = self
            .logger
            .unwrap_or_else(|| Logger::root(slog::Discard, o!()))
            .new(o!("node" => addr.to_string()));
        let metrics = Metrics::new();
        let counters = Counters::new(&metrics);
        let (shutdown, _) = watch::channel(false);
        let inner = Arc::new_cyclic(|me| NodeInner {
            addr,
            limits: l,
            logger,
            clock,
            test_clock: test_clock.clone(),
            spawner: self
                .spawner
                .unwrap_or_else(|| Arc::new(TokioSpawner::current())),
            transport,
            tls: self.tls,
            open_connections: std::sync::atomic::AtomicUsize::new(0),
            rng: Mutex::new(self.rng.unwrap_or_else(|| Box::new(StdRng::from_entropy()))),
            metrics,
            counters,
            filters: Filters::default(),
            table: RwLock::new(FnvHashMap::default()),
            next_id: AtomicU64::new(1),
            delegate: RwLock::new(self.delegate),
            metrics_snapshot: RwLock::new(None),
            metrics_text: RwLock::new(None),
            links: Mutex::new(Links::default()),
            peers: Mutex::new(FnvHashMap::default()),
            asks: Mutex::new(HashMap::new()),
            ask_upid: Upid::new(ASK_ID, addr),
            shut_down: AtomicBool::new(false),
            shutdown,
            me: me.clone(),
        });
        if let Some(tc) = &test_clock {
            let weak: Weak<dyn Quiescence> = Arc::downgrade(&inner) as Weak<NodeInner>;
            tc.register_node(addr, weak);
        }
        let node = Node(inner);
        slog::info!(node.0.logger, "node listening");
        node.0
            .spawner
            .spawn(Box::pin(transport::accept_loop(node.clone(), listener)));
        Ok(node)
    }
}

impl Node {
    /// A builder with defaults: `127.0.0.1:0`, real clock, TCP, no delegate, 64 MiB frames.
    pub fn builder() -> NodeBuilder {
        NodeBuilder {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            advertise_ip: None,
            clock: None,
            logger: None,
            delegate: None,
            limits: Limits::default(),
            spawner: None,
            transport: None,
            rng: None,
            tls: None,
        }
    }
}
