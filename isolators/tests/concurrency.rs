//! Launches from several threads at once (as an agent launching many tasks does): every
//! launch completes, every exit status is right, and nothing is left behind. This is where
//! a descriptor leaking between concurrent forks, or a lock copied into a child, would hang.

use std::sync::Arc;

use meso_isolators::{ContainerId, ExitStatus};
use meso_testkit::isolator_checks::{can_run, cgroup_dirs_of, config, isolation, mem_limit, sh};

#[test]
fn concurrent_launches_with_namespaces_and_cgroups_all_complete() {
    if !can_run("concurrent", &["memory"]) {
        return;
    }
    let iso = Arc::new(isolation("cgroups/mem,namespaces/pid"));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let iso = Arc::clone(&iso);
            std::thread::spawn(move || {
                for i in 0..20 {
                    let id = ContainerId::new(format!("test-conc-{}-{t}-{i}", std::process::id()))
                        .unwrap();
                    let _guard = meso_testkit::isolator_checks::CgroupGuard(id.clone());
                    let (sandbox, cfg) = config(&id, mem_limit(64));
                    let code = (t * 20 + i) % 7;
                    let mut c = iso
                        .launch(&cfg, &sh(&format!("exit {code}"), sandbox.path()))
                        .unwrap();
                    assert_eq!(c.process.wait().unwrap(), ExitStatus::Code(code));
                    iso.destroy(&mut c).unwrap();
                    assert!(cgroup_dirs_of("meso", &id).is_empty(), "{id} left cgroups");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a launching thread panicked");
    }
}
