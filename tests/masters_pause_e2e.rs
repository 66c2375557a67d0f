//! Three real `meso master --peers` processes and the kit's real-process fault verbs: a
//! leader stopped with SIGSTOP (it hangs with its sockets open) loses the lead to another
//! master; continued with SIGCONT it follows the new leader. Waits are hang guards only.

use std::time::Duration;

use meso_testkit::masters::Masters;
use meso_testkit::process::meso_bin;

const GUARD: Duration = Duration::from_secs(120);

#[test]
fn a_paused_leader_loses_the_lead_and_follows_once_resumed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let masters = Masters::start(&meso_bin(), dir.path(), 3, &[]);
    let old = masters.wait_leader(GUARD);

    masters.pause(old);
    let new = meso_testkit::eventually::eventually_within("another master leads", GUARD, || {
        (0..3).find(|&i| i != old && masters.serves_as_leader(i))
    });

    masters.resume(old);
    let new_port = masters.ports[new];
    meso_testkit::eventually::eventually_within(
        "the resumed master follows the new leader",
        GUARD,
        || masters.follows(old, new_port),
    );
}
