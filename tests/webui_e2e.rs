//! The web UI in a real headless Chromium (through chromedriver, `meso_testkit::browser`)
//! against real `meso master` and `meso agent` processes: the overview's numbers are the
//! master's, a task launched with `meso execute` goes RUNNING then FINISHED on the open
//! page without a reload and its stdout shows in the file viewer, a task named like HTML
//! renders as text, the page makes no request to another origin and logs no console
//! error, deep links opened cold show their page, and after the leader of three masters
//! is killed the page moves to the new leader by itself. A master that asks for
//! credentials gets them from the page's login dialog; a teardown waits for a confirmation;
//! the page is dark when the system is, unless its toggle says otherwise.
//!
//! Screenshots of the main pages go to `target/ui-screenshots/` for a person to look at.
//! Every wait is a hang guard (`eventually`), never an assertion of speed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use meso_testkit::browser::Browser;
use meso_testkit::e2e_cluster::Cluster;
use meso_testkit::eventually::eventually_within;
use meso_testkit::http::blocking::try_get;
use meso_testkit::masters::Masters;
use meso_testkit::skip_unless_browser;
use serde_json::Value;

const MESO: &str = env!("CARGO_BIN_EXE_meso");

fn state(port: u16) -> Value {
    let r = try_get(port, "/master/state").expect("the master answers /master/state");
    serde_json::from_slice(&r.body).expect("the state is JSON")
}

/// Runs `meso execute` in the background (its output discarded).
fn execute(port: u16, name: &str, command: &str) -> std::process::Child {
    Command::new(MESO)
        .args([
            "execute",
            "--master",
            &format!("127.0.0.1:{port}"),
            "--name",
            name,
            "--command",
            command,
        ])
        .args(["--resources", "cpus:0.1;mem:32"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start meso execute")
}

fn shot(browser: &Browser, name: &str) {
    browser.screenshot(&Browser::screenshot_dir().join(format!("{name}.png")));
}

/// Console errors and requests to another origin since the last look: none allowed.
fn assert_clean(browser: &Browser, origin: &str) {
    let errors: Vec<Value> = browser
        .console()
        .into_iter()
        .filter(|m| m["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let elsewhere: Vec<String> = browser
        .requests()
        .into_iter()
        // chrome:// and about: are the browser's own pages (its new tab), not the network.
        .filter(|u| {
            !u.starts_with(origin)
                && !["data:", "chrome:", "about:"]
                    .iter()
                    .any(|s| u.starts_with(s))
        })
        .collect();
    assert!(
        elsewhere.is_empty(),
        "requests to another origin: {elsewhere:?}"
    );
}

fn wait_overview(browser: &Browser) {
    browser.wait_for("the overview rendered", "body[data-overview=rendered]");
}

#[test]
fn the_overview_shows_the_masters_numbers_with_no_error_and_no_other_origin() {
    skip_unless_browser!();
    let cluster = Cluster::start();
    let origin = format!("http://127.0.0.1:{}", cluster.master_port);
    let browser = Browser::start();
    browser.goto(&format!("{origin}/"));
    wait_overview(&browser);
    let s = state(cluster.master_port);
    let text = |id: &str| {
        browser
            .text(&format!("[data-testid={id}]"))
            .unwrap_or_default()
    };
    assert_eq!(text("agents-active"), s["activated_slaves"].to_string());
    assert_eq!(
        text("agents-deactivated"),
        s["deactivated_slaves"].to_string()
    );
    assert_eq!(
        text("agents-unreachable"),
        s["unreachable_slaves"].to_string()
    );
    let total_cpus: f64 = s["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["resources"]["cpus"].as_f64().unwrap())
        .sum();
    assert_eq!(text("res-total-cpus"), format!("{total_cpus}"));
    assert_eq!(
        text("res-total-mem"),
        "512 MiB",
        "the agent's mem:512 in binary units"
    );
    assert_eq!(text("leader"), s["leader"].as_str().unwrap());
    assert_eq!(text("tasks-TASK_RUNNING"), "0");
    // The revocable summary is /master/state's (an agent without an estimator: none).
    assert_eq!(
        text("revocable-evicted"),
        s["revocable"]["evicted_tasks"].to_string()
    );
    assert_eq!(text("revocable-cpus"), "0 / 0");
    shot(&browser, "overview");
    assert_clean(&browser, &origin);
}

#[test]
fn a_task_goes_running_then_finished_live_and_its_stdout_and_an_html_name_show_as_text() {
    skip_unless_browser!();
    let cluster = Cluster::start();
    let port = cluster.master_port;
    let origin = format!("http://127.0.0.1:{port}");
    let browser = Browser::start();
    browser.goto(&format!("{origin}/#/tasks?kind=all"));
    browser.wait_for("the tasks page", "[data-testid=page-tasks]");
    // A marker that a reload would wipe: the states below must arrive on this same page.
    browser.execute("window.__sameLoad = true;", vec![]);

    let mut run = execute(port, "ui-task", "echo hello-from-the-ui; sleep 4");
    let state_cell = "[data-testid=tasks-row][data-id=ui-task] [data-testid=task-state]";
    browser.wait_text("the task shows RUNNING", state_cell, |t| t == "RUNNING");
    shot(&browser, "tasks");
    browser.wait_text("the task shows FINISHED", state_cell, |t| t == "FINISHED");
    assert_eq!(
        browser.execute("return window.__sameLoad === true;", vec![]),
        Value::Bool(true),
        "the page was not reloaded"
    );
    let _ = run.wait();

    // The task page lists the states it went through; its stdout is in the file viewer.
    browser.click("[data-testid=tasks-row][data-id=ui-task] a[href^='#/tasks/']");
    browser.wait_text("the task page", "[data-testid=task-detail-name]", |t| {
        t == "ui-task"
    });
    let history = browser.texts("[data-testid=status-row] td:first-child");
    assert!(
        history.contains(&"RUNNING".to_string())
            && history.last().map(String::as_str) == Some("FINISHED"),
        "history {history:?}"
    );
    shot(&browser, "task");
    browser.click("[data-testid=task-stdout]");
    browser.wait_text(
        "stdout in the file viewer",
        "[data-testid=file-text]",
        |t| t.contains("hello-from-the-ui"),
    );
    shot(&browser, "stdout");
    browser.click("[data-testid=crumbs] a:last-child");
    browser.wait_for("the sandbox listing", "[data-testid=file-stdout]");
    shot(&browser, "sandbox");

    // A name that is HTML stays text: no element is made of it, no handler runs.
    let evil = "<img src=x onerror=alert(1)>";
    let mut run = execute(port, evil, "true");
    browser.goto(&format!("{origin}/#/tasks?kind=all&filter=onerror"));
    browser.wait_text(
        "the HTML-named task listed",
        "[data-testid=tasks-row] [data-testid=task-name]",
        |t| t == evil,
    );
    let _ = run.wait();
    assert_eq!(browser.count("main img"), 0, "the name made an element");
    assert_eq!(
        browser.execute("return document.title;", vec![]),
        Value::String("meso".into())
    );
    assert_clean(&browser, &origin);
}

#[test]
fn deep_links_opened_cold_show_their_page_with_filter_and_sort() {
    skip_unless_browser!();
    let cluster = Cluster::start();
    let port = cluster.master_port;
    let origin = format!("http://127.0.0.1:{port}");
    let s = state(port);
    let agent_id = s["slaves"][0]["id"].as_str().unwrap().to_string();
    let hostname = s["slaves"][0]["hostname"].as_str().unwrap().to_string();

    let browser = Browser::start();
    browser.goto(&format!("{origin}/#/agents/{agent_id}"));
    browser.wait_text("the agent page", "[data-testid=agent-host]", |t| {
        t == hostname
    });
    shot(&browser, "agent");

    let browser = Browser::start();
    browser.goto(&format!(
        "{origin}/#/agents?sort=hostname&order=desc&filter={hostname}"
    ));
    browser.wait_for("the agents table", "[data-testid=agents-row]");
    assert_eq!(browser.count("[data-testid=agents-row]"), 1);
    assert_eq!(
        browser.execute(
            "return document.querySelector('[data-testid=agents-filter]').value;",
            vec![]
        ),
        Value::String(hostname.clone())
    );
    let sorted = browser.execute(
        "const b = document.querySelector('[data-testid=agents-sort-hostname]'); return b.parentElement.getAttribute('aria-sort');",
        vec![],
    );
    assert_eq!(sorted, Value::String("descending".into()));

    let browser = Browser::start();
    browser.goto(&format!("{origin}/#/tasks/no-such-task"));
    browser.wait_for(
        "the task page says it does not know the task",
        "[data-testid=not-found]",
    );
    for page in ["roles", "offers", "masters", "frameworks", "events"] {
        browser.goto(&format!("{origin}/#/{page}"));
        browser.wait_for(
            &format!("the {page} page"),
            &format!("[data-testid=page-{page}]"),
        );
        shot(&browser, page);
    }
    assert_clean(&browser, &origin);
    // The maintenance page shows what the master answers, whatever it is; Chromium logs a
    // 404 as a console error, so the page is clean only where the master has the calls.
    browser.goto(&format!("{origin}/#/maintenance"));
    browser.wait_for(
        "the maintenance schedule or the master's answer",
        "[data-testid=maintenance-schedule]",
    );
    shot(&browser, "maintenance");
    if try_get(port, "/master/maintenance/schedule").is_some_and(|r| r.status == 200) {
        assert_clean(&browser, &origin);
    }
}

#[test]
fn after_the_leader_is_killed_the_page_moves_to_the_new_leader() {
    skip_unless_browser!();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut masters = Masters::start(Path::new(MESO), dir.path(), 3, &[]);
    let guard = Duration::from_secs(120);
    let first = masters.wait_leader(guard);
    let browser = Browser::start();
    browser.goto(&format!(
        "http://127.0.0.1:{}/#/masters",
        masters.ports[first]
    ));
    browser.wait_for(
        "the masters page shows the leader",
        "[data-testid=leader-mark]",
    );
    masters.kill9(first);
    let second = masters.wait_leader(guard);
    assert_ne!(first, second);
    let new_port = format!(":{}/", masters.ports[second]);
    let moved = eventually_within(
        "the page moved to the new leader (or the guard passed)",
        guard,
        || {
            let url = browser.url();
            (url.contains(&new_port) || !url.contains(&format!(":{}/", masters.ports[first])))
                .then_some(url)
        },
    );
    assert!(
        moved.contains(&new_port),
        "the page went to {moved}, not the new leader on port {}; banner: {:?}; masters:\n{}",
        masters.ports[second],
        browser.text("[data-testid=banner]"),
        meso_testkit::process::logs_in(
            dir.path(),
            &["master0.1.log", "master1.1.log", "master2.1.log"]
        ),
    );
    assert!(
        browser.url().ends_with("#/masters"),
        "the route is kept: {}",
        browser.url()
    );
    let leader_row = browser.wait_text(
        "the new page marks a leader",
        "[data-testid=masters-leader]",
        |t| !t.is_empty(),
    );
    assert!(
        leader_row.ends_with(&format!(":{}", masters.ports[second])),
        "leader {leader_row}"
    );
    shot(&browser, "masters");
}

#[test]
fn a_master_that_asks_for_credentials_gets_them_from_the_login_dialog() {
    skip_unless_browser!();
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.json");
    std::fs::write(
        &credentials,
        r#"{"credentials":[{"principal":"ops","secret":"s3cret"}]}"#,
    )
    .expect("credentials file");
    let port = meso_testkit::process::free_port();
    let _master = meso_testkit::process::spawn_logged(
        &[
            "master",
            "--port",
            &port.to_string(),
            "--authenticate-http-readonly",
            "--authenticate-http-readwrite",
            "--credentials",
            credentials.to_str().expect("utf-8 temp path"),
        ],
        &dir.path().join("master.log"),
    );
    meso_testkit::eventually("the master answers /health", || {
        try_get(port, "/master/health").is_some_and(|r| r.status == 200)
    });
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for("the login dialog", "dialog#login[open]");
    assert_eq!(
        browser.count("body[data-overview=rendered]"),
        0,
        "nothing is shown without credentials"
    );
    browser.type_into("dialog#login input[name=principal]", "ops");
    browser.type_into("dialog#login input[name=secret]", "s3cret");
    browser.click("dialog#login button[value=ok]");
    wait_overview(&browser);
    browser.wait_text("the live stream is up", "[data-testid=last-updated]", |t| {
        t.starts_with("updated")
    });
    assert!(
        browser.execute("return document.getElementById('banner').hidden;", vec![])
            == Value::Bool(true),
        "no banner once logged in"
    );
}

#[test]
fn the_ui_endpoints_answer_bad_requests_with_a_reason_and_serve_no_stray_file() {
    let cluster = Cluster::start();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], cluster.master_port));
    let get = |path: &str| meso_testkit::http::blocking::get(addr, path);
    let r = get("/master/list/tasks?sort=colour");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("colour"), "{}", r.text());
    let r = get("/master/list/tasks?limit=many");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("limit"), "{}", r.text());
    assert_eq!(get("/master/list/nothing").status, 404);
    assert_eq!(get("/ui/../Cargo.toml").status, 404);
    assert_eq!(get("/ui/missing.js").status, 404);
    let r = meso_testkit::http::blocking::post(addr, "/master/overview", None, "");
    assert_eq!(r.status, 405);
    let page = get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-security-policy")
        .is_some_and(|p| p.contains("script-src 'self'")));
    // SUBSCRIBE with omit_state: SUBSCRIBED carries no state, then events follow.
    let mut events = meso_testkit::http::blocking::EventStream::open(
        addr,
        "/api/v1",
        &["Content-Type: application/json", "Accept: application/json"],
        r#"{"type":"SUBSCRIBE","subscribe":{"omit_state":true}}"#,
    );
    let subscribed = events.expect("SUBSCRIBED");
    assert_eq!(subscribed["subscribed"]["get_state"], serde_json::json!({}));
}

#[test]
fn tearing_down_a_framework_from_its_page_waits_for_a_confirmation() {
    skip_unless_browser!();
    let cluster = Cluster::start();
    let port = cluster.master_port;
    let mut run = execute(port, "long", "sleep 600");
    let framework = eventually_within(
        "the framework runs its task",
        Duration::from_secs(120),
        || {
            let s = state(port);
            let f = &s["frameworks"][0];
            (f["tasks"][0]["state"] == "TASK_RUNNING")
                .then(|| f["id"].as_str().unwrap_or_default().to_string())
        },
    );
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#/frameworks/{framework}"));
    browser.wait_text("the framework page", "[data-testid=framework-name]", |t| {
        t == "long"
    });
    browser.click("[data-testid=teardown-framework]");
    browser.wait_for("the confirmation", "dialog#confirm[open]");
    browser.click("[data-testid=confirm-cancel]");
    assert_eq!(
        state(port)["frameworks"].as_array().map(Vec::len),
        Some(1),
        "cancel changed nothing"
    );
    browser.click("[data-testid=teardown-framework]");
    browser.wait_for("the confirmation again", "dialog#confirm[open]");
    browser.click("[data-testid=confirm-ok]");
    browser.wait_text("the master's answer", "[data-testid=action-result]", |t| {
        t.contains("accepted")
    });
    meso_testkit::eventually("the framework is gone", || {
        state(port)["frameworks"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
    browser.wait_text(
        "the page shows it completed",
        "[data-testid=framework-state]",
        |t| t == "completed",
    );
    let _ = run.kill();
    let _ = run.wait();
}

#[test]
fn the_page_is_dark_when_the_system_is_and_the_toggle_overrides_it() {
    skip_unless_browser!();
    let cluster = Cluster::start();
    let browser = Browser::start();
    let background = || {
        browser
            .execute(
                "return getComputedStyle(document.body).backgroundColor;",
                vec![],
            )
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    browser.devtools(
        "Emulation.setEmulatedMedia",
        serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    browser.goto(&format!("http://127.0.0.1:{}/", cluster.master_port));
    wait_overview(&browser);
    assert_eq!(background(), "rgb(21, 23, 26)", "dark, as the system asks");
    shot(&browser, "overview-dark");
    browser.click("#theme");
    assert_eq!(
        background(),
        "rgb(247, 247, 245)",
        "the toggle's first step is light"
    );
    browser.execute(
        "document.body.dataset.overview = 'before-reload'; location.reload();",
        vec![],
    );
    wait_overview(&browser);
    assert_eq!(
        background(),
        "rgb(247, 247, 245)",
        "the choice outlives a reload"
    );
}
