//! Runs one command in a container with the isolators you name and prints its output, exit
//! status, usage statistics (as the agent would report them) and any limitation.
//!
//! ```sh
//! cargo run -p meso-isolators --example run_isolated                      # posix isolators, a greeting
//! sudo cargo run -p meso-isolators --example run_isolated -- \
//!     --isolation cgroups/cpu,cgroups/mem,namespaces/pid --cpus 0.5 --mem-mb 64 -- sh -c 'echo $$'
//! ```

use std::time::Duration;

use meso_isolators::{
    ContainerConfig, ContainerId, Isolation, IsolationConfig, LaunchSpec, Limits,
};

fn usage_and_exit(msg: &str) -> ! {
    eprintln!("{msg}\nusage: run_isolated [--isolation LIST] [--cpus N] [--mem-mb N] [--disk-mb N] [--cfs] [-- COMMAND ARGS...]");
    std::process::exit(2)
}

fn parse<T: std::str::FromStr>(flag: &str, value: Option<String>) -> T {
    let value = value.unwrap_or_else(|| usage_and_exit(&format!("{flag} needs a value")));
    value
        .parse()
        .unwrap_or_else(|_| usage_and_exit(&format!("{flag}: cannot parse {value:?}")))
}

/// Seconds since the Unix epoch: this program runs no node, so it stamps usage itself.
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[tokio::main]
async fn main() {
    let mut config = IsolationConfig {
        container_disk_watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let mut limits = Limits::default();
    let mut command: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--isolation" => config.isolation = parse("--isolation", args.next()),
            "--cpus" => limits.cpus = Some(parse("--cpus", args.next())),
            "--mem-mb" => limits.mem_bytes = Some(parse::<u64>("--mem-mb", args.next()) << 20),
            "--disk-mb" => {
                limits.disk_bytes = Some(parse::<u64>("--disk-mb", args.next()) << 20);
                config.enforce_container_disk_quota = true;
            }
            "--cfs" => config.cgroups_enable_cfs = true,
            "--" => command = args.by_ref().collect(),
            "--help" | "-h" => {
                println!("usage: run_isolated [--isolation LIST] [--cpus N] [--mem-mb N] [--disk-mb N] [--cfs] [-- COMMAND ARGS...]");
                return;
            }
            other => usage_and_exit(&format!("unknown argument {other:?}")),
        }
    }
    if command.is_empty() {
        command = vec![
            "sh".into(),
            "-c".into(),
            "echo hello from an isolated container".into(),
        ];
    }
    let isolation = Isolation::new(&config).unwrap_or_else(|e| usage_and_exit(&e.to_string()));
    let sandbox = tempfile::tempdir().expect("a temporary sandbox");
    let id = ContainerId::new(format!("example-{}", std::process::id())).expect("a valid id");
    let container_config = ContainerConfig {
        id: id.clone(),
        sandbox: sandbox.path().to_path_buf(),
        limits,
        rootfs: None,
    };
    let spec = LaunchSpec {
        program: command[0].clone(),
        args: command[1..].to_vec(),
        env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())],
        stdout: Some(sandbox.path().join("stdout")),
        stderr: Some(sandbox.path().join("stderr")),
        ..Default::default()
    };
    let mut container = isolation
        .launch(&container_config, &spec)
        .unwrap_or_else(|e| usage_and_exit(&format!("launch failed: {e}")));
    let mut last_usage = isolation.usage(&id, now_secs()).ok();
    let watch = isolation.watch(&id);
    tokio::pin!(watch);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let limitation = loop {
        tokio::select! {
            status = container.process.wait_async() => {
                status.expect("wait for the command");
                // A limitation that killed it is visible at once after the exit.
                break tokio::time::timeout(Duration::from_millis(300), &mut watch).await.ok();
            }
            l = &mut watch => break Some(l),
            _ = ticker.tick() => last_usage = isolation.usage(&id, now_secs()).ok().or(last_usage),
        }
    };
    let status = isolation
        .destroy(&mut container)
        .expect("destroy the container");
    let out = std::fs::read_to_string(sandbox.path().join("stdout")).unwrap_or_default();
    let err = std::fs::read_to_string(sandbox.path().join("stderr")).unwrap_or_default();
    println!("isolators: {}", isolation.names().join(","));
    print!("stdout:\n{out}");
    if !err.is_empty() {
        print!("stderr:\n{err}");
    }
    println!("exit: {status:?}");
    if let Some(u) = last_usage {
        println!(
            "statistics: {}",
            serde_json::to_string(&u).expect("statistics serialize")
        );
    }
    match limitation {
        Some(l) => println!("limitation: {} ({})", l.message, l.kind.task_reason()),
        None => println!("limitation: none"),
    }
}
