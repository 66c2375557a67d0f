//! The fetcher through its public API, against a small HTTP server started in the test
//! (std `TcpListener`, one thread per connection; no network beyond loopback): every
//! source (http, file://, plain path), every archive format, `executable`, `output_file`,
//! the cache (a hit, concurrent fetches done once, LRU eviction at the size bound), the
//! stall timeout, HTTP errors naming the URI, https (from a server signed by the CA of
//! `--fetcher-ca-file`, refused without it), and every refusal (zip-slip by `..`, absolute
//! names, symlinks out; `output_file` out of the sandbox). Waits are hang guards only.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use meso_agent::fetcher::{FetchError, FetchRequest, Fetcher, FetcherConfig};
use meso_api::v1::CommandUri;
use meso_testkit::eventually::eventually;

#[derive(Clone)]
enum Route {
    /// 200 with the body.
    Body(Vec<u8>),
    /// 200: headers at once, the body once the gate opens.
    Gated(Vec<u8>),
    /// 200 announcing `len` bytes, sending 10, then nothing.
    Stall(usize),
}

struct Server {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    gate: Arc<(Mutex<bool>, Condvar)>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        let server = Server {
            port,
            routes: Arc::default(),
            hits: Arc::default(),
            gate: Arc::new((Mutex::new(false), Condvar::new())),
            stop: Arc::default(),
        };
        let (routes, hits, gate, stop) = (
            server.routes.clone(),
            server.hits.clone(),
            server.gate.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (routes, hits, gate, stop) =
                    (routes.clone(), hits.clone(), gate.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head);
                    let path = text.split(' ').nth(1).unwrap_or("/").to_string();
                    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let route = routes.lock().unwrap().get(&path).cloned();
                    let ok = |len: usize| {
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                        )
                    };
                    match route {
                        None => {
                            let _ = stream.write_all(
                                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
                            );
                        }
                        Some(Route::Body(body)) => {
                            let _ = stream.write_all(ok(body.len()).as_bytes());
                            let _ = stream.write_all(&body);
                        }
                        Some(Route::Gated(body)) => {
                            let _ = stream.write_all(ok(body.len()).as_bytes());
                            let (open, cv) = &*gate;
                            let mut open = open.lock().unwrap();
                            while !*open {
                                open = cv.wait(open).unwrap();
                            }
                            drop(open);
                            let _ = stream.write_all(&body);
                        }
                        Some(Route::Stall(len)) => {
                            let _ = stream.write_all(ok(len).as_bytes());
                            let _ = stream.write_all(&[b'x'; 10]);
                            let _ = stream.flush();
                            // Silent until the test ends (or 60 s), the connection held.
                            for _ in 0..600 {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(100));
                            }
                        }
                    }
                });
            }
        });
        server
    }

    fn serve(&self, path: &str, route: Route) -> String {
        self.routes.lock().unwrap().insert(path.into(), route);
        self.url(path)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn open_gate(&self) {
        let (open, cv) = &*self.gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.open_gate();
    }
}

struct Setup {
    dir: tempfile::TempDir,
    fetcher: Fetcher,
}

fn setup_with(cache_size: u64, stall: Duration) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = FetcherConfig {
        cache_dir: dir.path().join("cache"),
        cache_size,
        stall_timeout: stall,
        ca_file: None,
    };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let fetcher = Fetcher::new(config, log).expect("fetcher starts");
    Setup { dir, fetcher }
}

fn setup() -> Setup {
    setup_with(1 << 20, Duration::from_secs(60))
}

impl Setup {
    fn sandbox(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("sandboxes").join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    fn fetch(&self, sandbox: &Path, uris: Vec<CommandUri>) -> Result<(), FetchError> {
        let request = FetchRequest {
            uris,
            user: None,
            sandbox: sandbox.to_path_buf(),
        };
        self.fetcher.fetch(&request, &AtomicBool::new(false))
    }
}

fn uri(value: &str) -> CommandUri {
    CommandUri {
        value: value.into(),
        executable: None,
        extract: true,
        cache: None,
        output_file: None,
    }
}

fn cached(value: &str) -> CommandUri {
    CommandUri {
        cache: Some(true),
        ..uri(value)
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A tar of `hello.txt` and `bin/run.sh` (mode 755).
fn tar_bytes() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, body, mode) in [
        ("hello.txt", &b"hello from tar\n"[..], 0o644),
        ("bin/run.sh", &b"#!/bin/sh\necho run\n"[..], 0o755),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder.append_data(&mut header, name, body).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A tar with one raw entry: `name` (and link target `link`) written as given, unchecked.
fn raw_tar(name: &str, kind: tar::EntryType, link: &str) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    let body = b"evil\n";
    let size = if kind == tar::EntryType::Regular {
        body.len()
    } else {
        0
    };
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    if size > 0 {
        let mut block = [0u8; 512];
        block[..size].copy_from_slice(body);
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    for (name, body) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn http_file_uri_and_plain_path_land_in_the_sandbox() {
    let s = setup();
    let server = Server::start();
    let http = server.serve("/files/a.txt", Route::Body(b"from http\n".to_vec()));
    let local = s.dir.path().join("local.txt");
    std::fs::write(&local, "from disk\n").unwrap();
    let sandbox = s.sandbox("one");
    let mut renamed = uri(local.to_str().unwrap());
    renamed.output_file = Some("sub/dir/plain.txt".into());
    s.fetch(
        &sandbox,
        vec![
            uri(&http),
            uri(&format!("file://{}", local.display())),
            renamed,
        ],
    )
    .unwrap();
    assert_eq!(read(sandbox.join("a.txt")), "from http\n");
    assert_eq!(read(sandbox.join("local.txt")), "from disk\n");
    assert_eq!(read(sandbox.join("sub/dir/plain.txt")), "from disk\n");
    assert_eq!(
        mode(&sandbox.join("a.txt")) & 0o111,
        0,
        "not executable by default"
    );
}

#[test]
fn every_archive_format_is_extracted() {
    let s = setup();
    let server = Server::start();
    let tar = tar_bytes();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&tar).unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&tar).unwrap();
    let archives: Vec<(&str, Vec<u8>)> = vec![
        ("/p.tar", tar.clone()),
        ("/p.tar.gz", gz(&tar)),
        ("/p.tgz", gz(&tar)),
        ("/p.tar.bz2", bz.finish().unwrap()),
        ("/p.tar.xz", xz.finish().unwrap()),
    ];
    for (path, bytes) in archives {
        let sandbox = s.sandbox(path.trim_start_matches('/'));
        s.fetch(&sandbox, vec![uri(&server.serve(path, Route::Body(bytes)))])
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            read(sandbox.join("hello.txt")),
            "hello from tar\n",
            "{path}"
        );
        assert_eq!(mode(&sandbox.join("bin/run.sh")), 0o755, "{path}");
        assert!(
            sandbox.join(path.trim_start_matches('/')).exists(),
            "{path}: archive kept"
        );
    }
    let sandbox = s.sandbox("zip");
    let zip = zip_bytes(&[("z/inner.txt", b"from zip\n"), ("tool", b"#!/bin/sh\n")]);
    s.fetch(
        &sandbox,
        vec![uri(&server.serve("/p.zip", Route::Body(zip)))],
    )
    .unwrap();
    assert_eq!(read(sandbox.join("z/inner.txt")), "from zip\n");
    assert_eq!(mode(&sandbox.join("tool")), 0o755);
    let sandbox = s.sandbox("gz");
    let body = gz(b"plain gunzip\n");
    s.fetch(
        &sandbox,
        vec![uri(&server.serve("/notes.txt.gz", Route::Body(body)))],
    )
    .unwrap();
    assert_eq!(read(sandbox.join("notes.txt")), "plain gunzip\n");
    // extract: false keeps the archive as it is.
    let sandbox = s.sandbox("kept");
    let mut keep = uri(&server.url("/p.tgz"));
    keep.extract = false;
    s.fetch(&sandbox, vec![keep]).unwrap();
    assert!(sandbox.join("p.tgz").exists() && !sandbox.join("hello.txt").exists());
}

#[test]
fn executable_sets_the_mode_and_is_not_extracted() {
    let s = setup();
    let server = Server::start();
    let url = server.serve("/tool.tgz", Route::Body(b"#!/bin/sh\necho hi\n".to_vec()));
    let sandbox = s.sandbox("x");
    let mut u = uri(&url);
    u.executable = Some(true);
    u.output_file = Some("bin/tool".into());
    s.fetch(&sandbox, vec![u]).unwrap();
    assert_eq!(mode(&sandbox.join("bin/tool")), 0o755);
    let out = std::process::Command::new(sandbox.join("bin/tool"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
}

#[test]
fn a_cached_uri_is_downloaded_once_for_two_tasks() {
    let s = setup();
    let server = Server::start();
    let url = server.serve("/c.sh", Route::Body(b"#!/bin/sh\n".to_vec()));
    for task in ["t1", "t2"] {
        let sandbox = s.sandbox(task);
        let mut u = cached(&url);
        u.executable = Some(true);
        s.fetch(&sandbox, vec![u]).unwrap();
        assert_eq!(read(sandbox.join("c.sh")), "#!/bin/sh\n");
        assert_eq!(mode(&sandbox.join("c.sh")), 0o755);
    }
    assert_eq!(server.hits("/c.sh"), 1, "the second task hit the cache");
    // Without `cache`, every fetch downloads.
    s.fetch(&s.sandbox("t3"), vec![uri(&url)]).unwrap();
    assert_eq!(server.hits("/c.sh"), 2);
}

#[test]
fn concurrent_fetches_of_one_uri_share_one_download() {
    let s = setup();
    let server = Server::start();
    let url = server.serve("/big.tar.gz", Route::Gated(gz(&tar_bytes())));
    let sandboxes: Vec<PathBuf> = (0..4).map(|i| s.sandbox(&format!("c{i}"))).collect();
    let fetches: Vec<_> = sandboxes
        .iter()
        .map(|sandbox| {
            let request = FetchRequest {
                uris: vec![cached(&url)],
                user: None,
                sandbox: sandbox.clone(),
            };
            let fetcher = s.fetcher.clone();
            std::thread::spawn(move || fetcher.fetch(&request, &AtomicBool::new(false)))
        })
        .collect();
    // One fetch downloads (the server holds its body back); the three others wait for it.
    eventually("three fetches wait for the one download", || {
        s.fetcher.waiting() == 3
    });
    assert_eq!(server.hits("/big.tar.gz"), 1);
    server.open_gate();
    for fetch in fetches {
        fetch.join().unwrap().unwrap();
    }
    for sandbox in &sandboxes {
        assert_eq!(read(sandbox.join("hello.txt")), "hello from tar\n");
        assert!(
            !sandbox.join("big.tar.gz").exists(),
            "from the cache only the extraction lands (Mesos)"
        );
    }
    assert_eq!(server.hits("/big.tar.gz"), 1);
}

#[test]
fn the_least_recently_used_file_is_evicted_at_the_size_bound() {
    let s = setup_with(100, Duration::from_secs(60));
    let server = Server::start();
    let [a, b, c] = ["/a", "/b", "/c"].map(|p| server.serve(p, Route::Body(vec![b'x'; 40])));
    let fetch = |u: &str, sandbox: &str| s.fetch(&s.sandbox(sandbox), vec![cached(u)]).unwrap();
    fetch(&a, "1");
    fetch(&b, "2");
    fetch(&a, "3"); // a is now more recent than b
    fetch(&c, "4"); // 120 > 100: b goes
    fetch(&a, "5");
    assert_eq!(server.hits("/a"), 1, "a stayed cached");
    fetch(&b, "6");
    assert_eq!(server.hits("/b"), 2, "b was evicted and downloaded again");
    // Larger than the whole cache: fetched directly, still delivered.
    let huge = server.serve("/huge", Route::Body(vec![b'y'; 101]));
    fetch(&huge, "7");
    assert_eq!(
        std::fs::read(s.dir.path().join("sandboxes/7/huge"))
            .unwrap()
            .len(),
        101
    );
    let cache_bytes: u64 = std::fs::read_dir(s.dir.path().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        cache_bytes <= 100,
        "the cache directory holds {cache_bytes} bytes"
    );
}

#[test]
fn a_stalled_download_fails_after_the_stall_timeout() {
    let s = setup_with(1 << 20, Duration::from_millis(300));
    let server = Server::start();
    let url = server.serve("/slow.bin", Route::Stall(1000));
    let sandbox = s.sandbox("stall");
    let e = s.fetch(&sandbox, vec![uri(&url)]).unwrap_err();
    assert_eq!(e.uri, url);
    assert!(e.reason.contains("stalled"), "{e}");
    assert!(
        !sandbox.join("slow.bin").exists(),
        "no half-written file stays"
    );
}

#[test]
fn http_errors_and_bad_uris_name_the_uri() {
    let s = setup();
    let server = Server::start();
    let sandbox = s.sandbox("e");
    let missing = server.url("/missing.sh");
    for u in [uri(&missing), cached(&missing)] {
        let e = s.fetch(&sandbox, vec![u]).unwrap_err();
        assert_eq!(e.uri, missing);
        let text = e.to_string();
        assert!(text.contains(&missing) && text.contains("404"), "{text}");
    }
    let e = s.fetch(&sandbox, vec![uri("/no/such/file")]).unwrap_err();
    assert!(e.to_string().contains("/no/such/file"), "{e}");
    let e = s.fetch(&sandbox, vec![uri("ftp://h/x")]).unwrap_err();
    assert!(e.reason.contains("scheme 'ftp'"), "{e}");
    // Port 1 on loopback: nothing listens.
    let e = s
        .fetch(&sandbox, vec![uri("http://127.0.0.1:1/x")])
        .unwrap_err();
    assert!(e.to_string().contains("http://127.0.0.1:1/x"), "{e}");
}

#[test]
fn archive_entries_and_output_files_never_escape_the_sandbox() {
    let s = setup();
    let server = Server::start();
    let outside = s.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let absolute = format!("{}/abs.txt", outside.display());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "/dotdot.tar",
            raw_tar("../evil.txt", tar::EntryType::Regular, ""),
            "'../evil.txt'",
        ),
        (
            "/deep.tar",
            raw_tar("a/../../evil.txt", tar::EntryType::Regular, ""),
            "'a/../../evil.txt'",
        ),
        (
            "/abs.tar",
            raw_tar(&absolute, tar::EntryType::Regular, ""),
            "absolute path",
        ),
        (
            "/linkabs.tar",
            raw_tar("l", tar::EntryType::Symlink, outside.to_str().unwrap()),
            "symlink to the absolute path",
        ),
        (
            "/linkup.tar",
            raw_tar("d/l", tar::EntryType::Symlink, "../../outside"),
            "points out of the sandbox",
        ),
        (
            "/hard.tar",
            raw_tar("h", tar::EntryType::Link, "../outside/x"),
            "'h'",
        ),
        (
            "/slip.zip",
            zip_bytes(&[("../evil.txt", b"evil\n")]),
            "'../evil.txt'",
        ),
    ];
    for (path, bytes, says) in cases {
        let sandbox = s.sandbox(path.trim_start_matches('/'));
        let url = server.serve(path, Route::Body(bytes));
        let e = s.fetch(&sandbox, vec![uri(&url)]).unwrap_err();
        assert_eq!(e.uri, url);
        assert!(
            e.reason.contains("refused") && e.reason.contains(says),
            "{path}: {e}"
        );
        assert!(!s.dir.path().join("sandboxes/evil.txt").exists(), "{path}");
        assert!(!outside.join("abs.txt").exists(), "{path}");
        assert!(
            std::fs::read_dir(&outside).unwrap().next().is_none(),
            "{path}"
        );
    }
    // A symlink that stays inside is fine.
    let sandbox = s.sandbox("inside");
    let url = server.serve("/ok.tar", raw_tar_route("d/l", "../x"));
    s.fetch(&sandbox, vec![uri(&url)]).unwrap();
    assert_eq!(
        std::fs::read_link(sandbox.join("d/l")).unwrap(),
        Path::new("../x")
    );
    // output_file out of the sandbox.
    for bad in ["../out.txt", "/tmp/out.txt", "a/../../out.txt"] {
        let mut u = uri(&server.serve("/plain.txt", Route::Body(b"x".to_vec())));
        u.output_file = Some(bad.into());
        let e = s.fetch(&sandbox, vec![u]).unwrap_err();
        assert!(e.reason.contains("output_file refused"), "{bad}: {e}");
    }
}

fn raw_tar_route(name: &str, link: &str) -> Route {
    Route::Body(raw_tar(name, tar::EntryType::Symlink, link))
}

/// An HTTPS server (rustls over std sockets, one thread per connection) presenting `leaf`'s
/// certificate and answering every GET with 200 and `body`; its port. (ring: rustls
/// deprecates it for lacking post-quantum key exchange, and it is what meso builds.)
#[allow(deprecated)]
fn https_server(leaf: &meso_testkit::certs::LeafFiles, body: &'static [u8]) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&leaf.cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&leaf.key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return, // the client refused the handshake
                    }
                }
                let len = body.len();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(body);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

#[test]
fn https_is_fetched_from_a_server_the_ca_file_trusts_and_refused_otherwise() {
    let certs = tempfile::tempdir().unwrap();
    let leaf = meso_testkit::certs::Ca::new("cluster-ca").leaf_files(certs.path(), "server");
    let port = https_server(&leaf, b"from https\n");
    let url = format!("https://127.0.0.1:{port}/files/s.txt");

    let public_roots_only = setup();
    let sandbox = public_roots_only.sandbox("untrusted");
    let e = public_roots_only
        .fetch(&sandbox, vec![uri(&url)])
        .unwrap_err();
    assert_eq!(e.uri, url);
    assert!(e.reason.to_lowercase().contains("certificate"), "{e}");
    assert!(!sandbox.join("s.txt").exists(), "nothing fetched");

    let dir = tempfile::tempdir().unwrap();
    let config = FetcherConfig {
        ca_file: Some(leaf.ca.clone()),
        ..FetcherConfig::under(dir.path())
    };
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let trusting = Setup {
        fetcher: Fetcher::new(config, log).expect("fetcher starts"),
        dir,
    };
    let sandbox = trusting.sandbox("trusted");
    trusting.fetch(&sandbox, vec![uri(&url)]).unwrap();
    assert_eq!(read(sandbox.join("s.txt")), "from https\n");
}
