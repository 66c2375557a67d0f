//! Stage order for multi-stage jobs (maps, then reduces), pure. The stages are the groups of
//! a [`TaskBook`], in the same order.
//!
//! A stage that comes after other stages starts once every task of those finished; with a
//! slow-start ratio R (seed 001's mapToReduceRatio) it may start one task per R finished
//! tasks of those stages before that. A stage after one with a task failed for good, or
//! after a blocked stage, never starts: it is *blocked*, and its waiting tasks are skipped.
//!
//! Invariant: a stage only comes after earlier stages, so the order has no cycle.

use crate::tasks::TaskBook;

/// The stages each stage comes after, and its ratio.
///
/// ```
/// use std::time::Duration;
/// use meso_api::v1::TaskState;
/// use meso_frameworks::stages::StageOrder;
/// use meso_frameworks::tasks::{Backoff, TaskBook};
///
/// let groups = [("map".to_string(), 4, 0), ("reduce".to_string(), 2, 0)];
/// let mut book = TaskBook::new(groups, Backoff::new(Duration::from_secs(1)));
/// let order = StageOrder::new(vec![(vec![], None), (vec![0], Some(2))]);
/// assert_eq!(order.first_launches(1, &book), 0);
/// for i in 0..2 {
///     let (id, _) = book.launch(0, i, None);
///     book.update(&id, TaskState::Finished, Duration::ZERO);
/// }
/// assert_eq!(order.first_launches(1, &book), 1, "one reduce per two maps finished");
/// let (id, _) = book.launch(0, 2, None);
/// book.update(&id, TaskState::Failed, Duration::ZERO);
/// assert!(order.blocked(1, &book));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StageOrder {
    after: Vec<(Vec<usize>, Option<u32>)>,
}

impl StageOrder {
    /// For each stage, the (earlier) stages it comes after and its ratio (`None`: wait for
    /// all of them).
    pub fn new(after: Vec<(Vec<usize>, Option<u32>)>) -> StageOrder {
        for (s, (before, _)) in after.iter().enumerate() {
            assert!(
                before.iter().all(|&b| b < s),
                "invariant: stage {s} comes only after earlier stages"
            );
        }
        StageOrder { after }
    }

    /// Whether stage `s` can never start.
    pub fn blocked(&self, s: usize, book: &TaskBook) -> bool {
        self.after[s]
            .0
            .iter()
            .any(|&b| book.counts(b).failed > 0 || self.blocked(b, book))
    }

    /// How many of stage `s`'s tasks may have had their first launch by now.
    pub fn first_launches(&self, s: usize, book: &TaskBook) -> u32 {
        let (before, ratio) = &self.after[s];
        if self.blocked(s, book) {
            return 0;
        }
        let done: usize = before.iter().map(|&b| book.counts(b).finished).sum();
        let total: usize = before.iter().map(|&b| book.tasks(b)).sum();
        match ratio {
            _ if done == total => u32::MAX,
            Some(r) => (done / *r as usize) as u32,
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::Backoff;
    use meso_api::v1::TaskState;
    use std::time::Duration;

    #[test]
    fn a_chain_waits_for_all_without_a_ratio_and_blocks_behind_a_failure() {
        let groups = [("a", 2, 0), ("b", 1, 0), ("c", 1, 0)].map(|(n, t, r)| (n.into(), t, r));
        let mut book = TaskBook::new(groups, Backoff::new(Duration::ZERO));
        let order = StageOrder::new(vec![(vec![], None), (vec![0], None), (vec![1], None)]);
        assert_eq!(order.first_launches(0, &book), u32::MAX);
        let (id, _) = book.launch(0, 0, None);
        book.update(&id, TaskState::Finished, Duration::ZERO);
        assert_eq!(
            order.first_launches(1, &book),
            0,
            "one of two maps finished"
        );
        let (id, _) = book.launch(0, 1, None);
        book.update(&id, TaskState::Finished, Duration::ZERO);
        assert_eq!(order.first_launches(1, &book), u32::MAX);
        let (id, _) = book.launch(1, 0, None);
        book.update(&id, TaskState::Error, Duration::ZERO);
        assert!(order.blocked(2, &book) && !order.blocked(1, &book));
        assert_eq!(order.first_launches(2, &book), 0);
    }

    #[test]
    #[should_panic(expected = "comes only after earlier stages")]
    fn a_stage_after_a_later_one_is_refused() {
        StageOrder::new(vec![(vec![1], None), (vec![], None)]);
    }
}
