//! `/files/browse`, `/files/read`, `/files/download`, `/files/debug` over real HTTP against
//! a live sandbox: the three names of a sandbox work, reads follow Mesos's offset/length
//! rules, and nothing outside a sandbox is reachable (`..`, a symlink out, unknown paths).

use meso_api::v1::TaskState;
use meso_testkit::agent_harness::*;
use meso_testkit::http::blocking::{get, request};

const SANDBOX: &str = "/frameworks/M-0000/executors/t1/runs/latest";

fn q(path: &str) -> String {
    path.replace('%', "%25")
        .replace('&', "%26")
        .replace(' ', "%20")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_serve_sandboxes_and_nothing_else() {
    let mut h = Harness::start_registered().await;
    h.run_task(command_task(
        "t1",
        "echo hello > out.txt; mkdir sub; echo deep > sub/f; ln -s /etc/passwd escape; \
         ln -s ../../../.. up; touch ready; sleep 300",
    ));
    h.expect_state(TaskState::Starting).await;
    h.expect_state(TaskState::Running).await;
    h.wait_for_file("t1", "ready").await;
    let addr = h.agent.addr();
    let work_dir = h.work_dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        // Browse under each of the sandbox's names.
        let directory = get(addr, "/state").json()["frameworks"][0]["executors"][0]["directory"]
            .as_str()
            .expect("directory in /state")
            .to_string();
        let long = format!("{}/slaves/{AGENT_ID}{SANDBOX}", work_dir.display());
        for name in [SANDBOX, directory.as_str(), long.as_str()] {
            let r = get(addr, &format!("/files/browse?path={}", q(name)));
            assert_eq!(r.status, 200, "{name}: {}", r.text());
            let list = r.json();
            let entries = list.as_array().expect("an array");
            let out = entries
                .iter()
                .find(|e| e["path"] == format!("{name}/out.txt"))
                .unwrap_or_else(|| panic!("no out.txt under {name}: {list}"));
            assert_eq!(out["size"], 6);
            assert_eq!(out["mode"].as_str().unwrap().len(), 10);
            assert!(out["mode"].as_str().unwrap().starts_with('-'));
            let sub = entries
                .iter()
                .find(|e| e["path"] == format!("{name}/sub"))
                .unwrap();
            assert!(sub["mode"].as_str().unwrap().starts_with('d'));
            assert!(entries
                .iter()
                .any(|e| e["path"] == format!("{name}/stdout")));
        }
        assert_eq!(
            get(addr, &format!("/files/browse?path={SANDBOX}/sub")).json()[0]["path"],
            format!("{SANDBOX}/sub/f")
        );

        // Reads.
        let read = |query: &str| get(addr, &format!("/files/read?path={SANDBOX}/out.txt{query}"));
        let r = read("&offset=0");
        assert_eq!(
            r.json(),
            serde_json::json!({"data": "hello\n", "offset": 0})
        );
        assert_eq!(
            read("&offset=1&length=3").json(),
            serde_json::json!({"data": "ell", "offset": 1})
        );
        assert_eq!(
            read("").json(),
            serde_json::json!({"data": "", "offset": 6})
        );
        assert_eq!(
            read("&offset=-1").json(),
            serde_json::json!({"data": "", "offset": 6})
        );
        for bad in [
            "&offset=-2",
            "&offset=abc",
            "&offset=0&length=-1",
            "&offset=7",
        ] {
            let r = read(bad);
            assert_eq!(r.status, 400, "{bad}: {}", r.text());
            assert!(!r.text().is_empty());
        }
        let r = get(
            addr,
            &format!("/files/read.json?path={SANDBOX}/sub&offset=0"),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("directory"), "{}", r.text());

        // Download.
        let r = get(addr, &format!("/files/download?path={SANDBOX}/sub/f"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"deep\n");
        assert_eq!(
            r.header("Content-Disposition"),
            Some("attachment; filename=f")
        );
        assert_eq!(r.header("Content-Type"), Some("application/octet-stream"));

        // Debug lists the attached names.
        let debug = get(addr, "/files/debug").json();
        assert!(debug.get(SANDBOX).is_some(), "{debug}");

        // Nothing outside a sandbox.
        let r = get(
            addr,
            &format!("/files/read?path={SANDBOX}/../../../../../../../../etc/passwd&offset=0"),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(".."), "{}", r.text());
        let r = get(addr, &format!("/files/browse?path={SANDBOX}/%2e%2e/%2e%2e"));
        assert_eq!(r.status, 400, "{}", r.text());
        for outside in [
            format!("{SANDBOX}/escape"),
            format!("{SANDBOX}/up"),
            format!("{SANDBOX}/up/etc"),
            "/etc/passwd".to_string(),
            "/frameworks/M-0000/executors/nope/runs/latest".to_string(),
            format!("{SANDBOX}/no-such-file"),
        ] {
            for endpoint in ["browse", "download"] {
                let r = get(addr, &format!("/files/{endpoint}?path={}", q(&outside)));
                assert_eq!(r.status, 404, "{endpoint} {outside}: {}", r.text());
                assert!(!r.body.is_empty());
                assert!(!r.text().contains("root:"), "leaked {outside}");
            }
            let r = get(addr, &format!("/files/read?path={}&offset=0", q(&outside)));
            assert_eq!(r.status, 404, "read {outside}: {}", r.text());
        }

        // Bad requests.
        let r = get(addr, "/files/browse");
        assert_eq!(r.status, 400);
        assert!(r.text().contains("path"), "{}", r.text());
        assert_eq!(get(addr, "/files/browse?path=").status, 400);
        let r = request(
            addr,
            "POST",
            &format!("/files/browse?path={SANDBOX}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 405);
        assert_eq!(get(addr, "/files/nothing").status, 404);
        assert_eq!(get(addr, "/health").status, 200);
    })
    .await
    .expect("the checks ran");
}
