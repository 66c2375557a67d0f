//! The rollout step against Marathon's examples, and properties: no step takes the
//! serving instances below the minimum (or below what served before), no launch goes past
//! the capacity, and a rollout driven by the step always finishes.

use super::*;
use proptest::prelude::*;

fn strategy(h: f64, o: f64) -> UpgradeStrategy {
    UpgradeStrategy {
        minimum_health_capacity: h,
        maximum_over_capacity: o,
    }
}

fn healthy(k: usize) -> Vec<Member> {
    (0..k)
        .map(|i| Member {
            healthy: true,
            started_ms: i as u64,
        })
        .collect()
}

#[test]
fn marathons_examples() {
    // Defaults, n = 2: two new at once, no kill until they serve.
    let s = step(2, strategy(1.0, 1.0), &healthy(2), &[], 0);
    assert_eq!(
        s,
        Step {
            kill_old: vec![],
            launch: 2
        }
    );
    // h = 0.5, o = 0, n = 2: kill one old, one new in its place.
    let s = step(2, strategy(0.5, 0.0), &healthy(2), &[], 0);
    assert_eq!(
        s,
        Step {
            kill_old: vec![0],
            launch: 0
        }
    );
    let s = step(2, strategy(0.5, 0.0), &healthy(1), &[], 1);
    assert_eq!(s.launch, 0, "the killed one still holds capacity");
    let s = step(2, strategy(0.5, 0.0), &healthy(1), &[], 0);
    assert_eq!(
        s,
        Step {
            kill_old: vec![],
            launch: 1
        }
    );
    // h = 0, o = 0: everything goes first.
    let s = step(3, strategy(0.0, 0.0), &healthy(3), &[], 0);
    assert_eq!(s.kill_old, [0, 1, 2]);
    // h = 1, o = 0: one instance of over-capacity lets it start.
    assert_eq!(bounds(4, strategy(1.0, 0.0), 4), (4, 5));
    let s = step(4, strategy(1.0, 0.0), &healthy(4), &[], 0);
    assert_eq!(
        s,
        Step {
            kill_old: vec![],
            launch: 1
        }
    );
}

#[test]
fn backoff_grows_caps_and_starts_over() {
    let mut b = Backoff::default();
    b.failed(1_000, 1.0, 2.0, 5.0);
    assert_eq!((b.delay_ms, b.until_ms), (1_000, 2_000));
    assert!(!b.ready(1_500) && b.ready(2_000));
    b.failed(2_000, 1.0, 2.0, 5.0);
    b.failed(3_000, 1.0, 2.0, 5.0);
    b.failed(4_000, 1.0, 2.0, 5.0);
    assert_eq!(b.delay_ms, 5_000, "capped");
    b.failed(20_000, 1.0, 2.0, 5.0);
    assert_eq!(
        b.delay_ms, 1_000,
        "quiet for longer than the cap: starts over"
    );
}

#[test]
fn scale_down_kills_unhealthy_then_by_kill_selection() {
    let members = [
        Member {
            healthy: true,
            started_ms: 10,
        },
        Member {
            healthy: false,
            started_ms: 5,
        },
        Member {
            healthy: true,
            started_ms: 30,
        },
    ];
    assert_eq!(
        scale_down(&members, 2, KillSelection::YoungestFirst),
        [1, 2]
    );
    assert_eq!(scale_down(&members, 2, KillSelection::OldestFirst), [1, 0]);
}

proptest! {
    #[test]
    fn no_step_breaks_the_upgrade_strategy(
        n in 0usize..8,
        h in 0u32..=4,
        o in 0u32..=4,
        old in prop::collection::vec(any::<bool>(), 0..10),
        new in prop::collection::vec(any::<bool>(), 0..10),
        going in 0usize..3,
    ) {
        let st = strategy(h as f64 / 4.0, o as f64 / 4.0);
        let old: Vec<Member> = old.iter().enumerate().map(|(i, &healthy)| Member { healthy, started_ms: i as u64 }).collect();
        let new: Vec<Member> = new.iter().enumerate().map(|(i, &healthy)| Member { healthy, started_ms: i as u64 }).collect();
        let healthy_now = old.iter().chain(&new).filter(|m| m.healthy).count();
        let (min_healthy, max_capacity) = bounds(n, st, healthy_now);
        let s = step(n, st, &old, &new, going);
        let killed_healthy = s.kill_old.iter().filter(|&&i| old[i].healthy).count();
        let killed_surplus_ok = old.len() > n;
        // Serving instances never drop below the minimum through the step's kills
        // (unless they were below it already, then none is killed).
        prop_assert!(
            healthy_now - killed_healthy >= min_healthy.min(healthy_now) || killed_surplus_ok && healthy_now - killed_healthy >= n.min(healthy_now),
            "healthy {healthy_now} -> {} (min {min_healthy})", healthy_now - killed_healthy
        );
        // Launches never take the instances alive past the capacity.
        let alive = old.len() + new.len() + going;
        prop_assert!(s.launch == 0 || alive + s.launch <= max_capacity);
        prop_assert!(new.len() + s.launch <= n.max(new.len()));
    }

    #[test]
    fn a_rollout_driven_by_the_step_finishes(
        n in 1usize..8,
        h in 0u32..=4,
        o in 0u32..=4,
    ) {
        // Every instance becomes healthy the turn after it starts; kills end at once.
        let st = strategy(h as f64 / 4.0, o as f64 / 4.0);
        let mut old = healthy(n);
        let mut new: Vec<Member> = Vec::new();
        let (min_healthy, _) = bounds(n, st, n);
        for turn in 0..(4 * n + 4) {
            let s = step(n, st, &old, &new, 0);
            let killed_healthy = s.kill_old.iter().filter(|&&i| old[i].healthy).count();
            let serving = old.iter().chain(&new).filter(|m| m.healthy).count();
            prop_assert!(serving - killed_healthy >= min_healthy.min(serving));
            // Kills end before the next turn.
            for i in s.kill_old.iter().rev() {
                old.remove(*i);
            }
            for m in &mut new {
                m.healthy = true;
            }
            for _ in 0..s.launch {
                new.push(Member { healthy: false, started_ms: 100 + turn as u64 });
            }
            if old.is_empty() && new.len() == n && new.iter().all(|m| m.healthy) {
                return Ok(());
            }
        }
        prop_assert!(false, "not finished: {} old, {} new", old.len(), new.len());
    }
}
