//! The `label` selector of `GET /v2/apps`: `k`, `k==v`, `k!=v`, `k in (a,b)`,
//! `k notin (a,b)`, several joined by commas (all must hold).

use std::collections::BTreeMap;

/// Whether `labels` satisfy every requirement of `selector`.
pub fn matches(selector: &str, labels: &BTreeMap<String, String>) -> bool {
    split(selector)
        .iter()
        .filter(|req| !req.trim().is_empty())
        .all(|req| one(req.trim(), labels))
}

/// Splits on commas outside parentheses.
fn split(selector: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

fn set(text: &str) -> Vec<String> {
    text.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect()
}

fn one(req: &str, labels: &BTreeMap<String, String>) -> bool {
    if let Some((k, v)) = req.split_once("!=") {
        return labels.get(k.trim()).is_none_or(|x| x != v.trim());
    }
    if let Some((k, v)) = req.split_once("==") {
        return labels.get(k.trim()).is_some_and(|x| x == v.trim());
    }
    if let Some((k, v)) = req.split_once(" notin ") {
        return labels.get(k.trim()).is_none_or(|x| !set(v).contains(x));
    }
    if let Some((k, v)) = req.split_once(" in ") {
        return labels.get(k.trim()).is_some_and(|x| set(v).contains(x));
    }
    labels.contains_key(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let l = BTreeMap::from([("tier".to_string(), "web".to_string())]);
        assert!(matches("tier", &l));
        assert!(matches("tier==web", &l));
        assert!(!matches("tier!=web", &l));
        assert!(matches("tier in (db, web)", &l));
        assert!(!matches("tier notin (db,web)", &l));
        assert!(!matches("tier,owner", &l));
    }
}
