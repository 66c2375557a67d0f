//! The query of `/master/tasks` (HTTP reference §4.3): `limit` (default 100; any
//! negative number means no limit, clients send `-1`), `offset` (default 0), `order`
//! (`asc`, or `desc`, the default, by the first status's timestamp), `task_id`,
//! `framework_id`. Unlike Mesos, which silently falls back to the defaults, a value that
//! does not parse is a 400 naming the parameter and the value.

use super::error::HttpError;
use super::routing::{parse_query, query_value};

/// Default `limit` of `/master/tasks`.
pub const DEFAULT_TASK_LIMIT: usize = 100;

/// Sort order of `/master/tasks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOrder {
    /// Oldest first.
    Ascending,
    /// Newest first (the default).
    Descending,
}

/// A parsed `/master/tasks` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TasksQuery {
    /// Most tasks to return; `None` means all.
    pub limit: Option<usize>,
    /// Tasks to skip after sorting.
    pub offset: usize,
    /// Sort order.
    pub order: TaskOrder,
    /// Only this task.
    pub task_id: Option<String>,
    /// Only tasks of this framework.
    pub framework_id: Option<String>,
}

impl Default for TasksQuery {
    fn default() -> Self {
        TasksQuery {
            limit: Some(DEFAULT_TASK_LIMIT),
            offset: 0,
            order: TaskOrder::Descending,
            task_id: None,
            framework_id: None,
        }
    }
}

impl TasksQuery {
    /// Parses the query string (without `?`); `None` or empty gives the defaults.
    pub fn parse(query: Option<&str>) -> Result<TasksQuery, HttpError> {
        let pairs = parse_query(query.unwrap_or(""))?;
        let mut out = TasksQuery::default();
        if let Some(limit) = query_value(&pairs, "limit") {
            let n: i64 = limit.trim().parse().map_err(|_| bad("limit", limit))?;
            out.limit = usize::try_from(n).ok();
        }
        if let Some(offset) = query_value(&pairs, "offset") {
            out.offset = offset.trim().parse().map_err(|_| bad("offset", offset))?;
        }
        if let Some(order) = query_value(&pairs, "order") {
            out.order = match order {
                "asc" => TaskOrder::Ascending,
                "desc" | "" => TaskOrder::Descending,
                other => return Err(bad("order", other)),
            };
        }
        let non_empty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
        out.task_id = non_empty(query_value(&pairs, "task_id"));
        out.framework_id = non_empty(query_value(&pairs, "framework_id"));
        Ok(out)
    }

    /// True if a task with these ids passes the `task_id` and `framework_id` filters.
    pub fn matches(&self, task_id: &str, framework_id: &str) -> bool {
        self.task_id.as_deref().is_none_or(|t| t == task_id)
            && self
                .framework_id
                .as_deref()
                .is_none_or(|f| f == framework_id)
    }

    /// Sorts `items` by `timestamp` in the query's order (ties keep their order), then
    /// applies `offset` and `limit`.
    pub fn page<T>(&self, mut items: Vec<T>, timestamp: impl Fn(&T) -> f64) -> Vec<T> {
        items.sort_by(|a, b| {
            let (a, b) = (timestamp(a), timestamp(b));
            match self.order {
                TaskOrder::Ascending => a.total_cmp(&b),
                TaskOrder::Descending => b.total_cmp(&a),
            }
        });
        let limit = self.limit.unwrap_or(usize::MAX);
        items.into_iter().skip(self.offset).take(limit).collect()
    }
}

fn bad(name: &str, value: &str) -> HttpError {
    let expected = match name {
        "limit" => "an integer (negative for no limit)",
        "offset" => "a non-negative integer",
        _ => "'asc' or 'desc'",
    };
    HttpError::bad_request(format!(
        "Invalid '{name}' query parameter '{value}': expecting {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_values() {
        assert_eq!(TasksQuery::parse(None).unwrap(), TasksQuery::default());
        let q = TasksQuery::parse(Some("limit=5&offset=2&order=asc&task_id=t1&framework_id=f"))
            .unwrap();
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.offset, 2);
        assert_eq!(q.order, TaskOrder::Ascending);
        assert!(q.matches("t1", "f"));
        assert!(!q.matches("t2", "f"));
        assert!(!q.matches("t1", "g"));
        assert_eq!(TasksQuery::parse(Some("limit=-1")).unwrap().limit, None);
        assert_eq!(
            TasksQuery::parse(Some("order=desc")).unwrap().order,
            TaskOrder::Descending
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (query, name) in [
            ("limit=ten", "limit"),
            ("offset=-3", "offset"),
            ("order=up", "order"),
            ("limit=%zz", "%zz"),
        ] {
            let e = TasksQuery::parse(Some(query)).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.body.contains(name), "{query}: {}", e.body);
        }
    }

    #[test]
    fn paging() {
        let items = vec![(1, 3.0), (2, 1.0), (3, 2.0), (4, 5.0)];
        let q = TasksQuery::parse(Some("limit=2&offset=1")).unwrap();
        let ids: Vec<i32> = q
            .page(items.clone(), |t| t.1)
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(ids, vec![1, 3]);
        let q = TasksQuery::parse(Some("order=asc&limit=-1")).unwrap();
        let ids: Vec<i32> = q.page(items, |t| t.1).into_iter().map(|t| t.0).collect();
        assert_eq!(ids, vec![2, 3, 1, 4]);
    }
}
