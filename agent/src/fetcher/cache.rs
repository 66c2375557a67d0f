//! The fetcher cache's book, as Mesos's `fetcher-cache-internals.md` describes it: which
//! (user, URI) has a cache file, in which state, who uses it, and what to evict to make room.
//! Pure: the shell ([`super::Fetcher`]) downloads, copies and deletes the files it names.
//!
//! A fetch *claims* its key: the first claimer becomes the downloader of a new entry (a fresh
//! file name), later ones get the ready file or wait for the download; every claim is
//! *released* at the end of the fetch. Once the download's size is known (from
//! Content-Length or the file's size) the downloader *reserves* it, which evicts the least
//! recently used unreferenced ready entries until it fits; when nothing more can go the
//! reservation fails and the entry is dropped (the fetch bypasses the cache, Mesos's
//! fallback).
//!
//! Invariants (checked by the proptest below): the ready and reserved bytes never exceed
//! the capacity; an entry someone holds, or one being downloaded, is never evicted; every
//! entry's file name is unique over the book's life.

use std::collections::HashMap;

/// What identifies a cache file: the user the fetch runs as (none is a user of its own)
/// and the URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The user (CommandInfo.user, else the framework's), or none.
    pub user: Option<String>,
    /// The URI exactly as given.
    pub uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Being downloaded, size not reserved yet.
    Pending,
    /// Being downloaded with `size` bytes reserved.
    Downloading(u64),
    /// Resident: `size` bytes.
    Ready(u64),
}

#[derive(Debug, Clone)]
struct Entry {
    file: String,
    state: State,
    refs: u32,
    last_used: u64,
}

/// What a claim gives the fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The file is resident: copy or extract it.
    Ready(String),
    /// Another fetch is downloading it: wait for its outcome, then claim again.
    Wait,
    /// Download it into this (new) cache file, after `reserve`.
    Download(String),
}

/// The book of cache entries.
#[derive(Debug)]
pub struct CacheBook {
    capacity: u64,
    entries: HashMap<CacheKey, Entry>,
    tick: u64,
    serial: u64,
}

impl CacheBook {
    /// An empty cache that holds at most `capacity` bytes.
    pub fn new(capacity: u64) -> Self {
        CacheBook {
            capacity,
            entries: HashMap::new(),
            tick: 0,
            serial: 0,
        }
    }

    /// Bytes resident or reserved.
    pub fn used(&self) -> u64 {
        self.entries
            .values()
            .map(|e| match e.state {
                State::Pending => 0,
                State::Downloading(s) | State::Ready(s) => s,
            })
            .sum()
    }

    /// Whether `key` has a resident file.
    pub fn is_ready(&self, key: &CacheKey) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| matches!(e.state, State::Ready(_)))
    }

    /// Whether a download of `key` is under way.
    pub fn is_downloading(&self, key: &CacheKey) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| !matches!(e.state, State::Ready(_)))
    }

    /// Claims `key` for one fetch; `file_stem` ends the new file's name (so it keeps the
    /// URI's extension). Every claim but `Wait` must be released.
    pub fn claim(&mut self, key: &CacheKey, file_stem: &str) -> Claim {
        self.tick += 1;
        if let Some(entry) = self.entries.get_mut(key) {
            return match entry.state {
                State::Ready(_) => {
                    entry.refs += 1;
                    entry.last_used = self.tick;
                    Claim::Ready(entry.file.clone())
                }
                State::Pending | State::Downloading(_) => Claim::Wait,
            };
        }
        self.serial += 1;
        let file = format!("{}-{}", self.serial, file_stem);
        self.entries.insert(
            key.clone(),
            Entry {
                file: file.clone(),
                state: State::Pending,
                refs: 1,
                last_used: self.tick,
            },
        );
        Claim::Download(file)
    }

    /// Reserves `size` bytes for the download of `key`'s `file`, evicting least recently
    /// used entries no one holds. Returns the evicted files (to delete), or `None` when it
    /// cannot fit: then the entry is dropped and the fetch bypasses the cache.
    pub fn reserve(&mut self, key: &CacheKey, file: &str, size: u64) -> Option<Vec<String>> {
        if !self.owns(key, file) {
            return None;
        }
        let mut victims: Vec<(u64, CacheKey, u64)> = self
            .entries
            .iter()
            .filter_map(|(k, e)| match e.state {
                State::Ready(s) if e.refs == 0 => Some((e.last_used, k.clone(), s)),
                _ => None,
            })
            .collect();
        victims.sort_by_key(|(used, _, _)| *used);
        let evictable: u64 = victims.iter().map(|(_, _, s)| s).sum();
        let used = self.used();
        if size > self.capacity || used.saturating_sub(evictable) + size > self.capacity {
            self.entries.remove(key);
            return None;
        }
        let mut evicted = Vec::new();
        let mut used = used;
        for (_, victim, s) in victims {
            if used + size <= self.capacity {
                break;
            }
            if let Some(e) = self.entries.remove(&victim) {
                evicted.push(e.file);
            }
            used -= s;
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.state = State::Downloading(size);
        }
        Some(evicted)
    }

    /// The download of `key`'s `file` finished with `actual` bytes. A file larger than
    /// reserved is dropped from the book (its fetch delivers it, then deletes it: Mesos's
    /// rule); returns whether the entry stays resident.
    pub fn complete(&mut self, key: &CacheKey, file: &str, actual: u64) -> bool {
        if !self.owns(key, file) {
            return false;
        }
        let entry = self
            .entries
            .get_mut(key)
            .expect("invariant: owns checked it");
        match entry.state {
            State::Downloading(reserved) if actual <= reserved => {
                entry.state = State::Ready(actual);
                true
            }
            _ => {
                self.entries.remove(key);
                false
            }
        }
    }

    /// The download of `key`'s `file` failed: the entry goes (waiters fetch directly).
    pub fn fail(&mut self, key: &CacheKey, file: &str) {
        if self.owns(key, file) {
            self.entries.remove(key);
        }
    }

    /// A fetch is done with its claim on `key`'s `file` (a no-op if the entry went).
    pub fn release(&mut self, key: &CacheKey, file: &str) {
        if let Some(e) = self.entries.get_mut(key) {
            if e.file == file {
                e.refs = e.refs.saturating_sub(1);
            }
        }
    }

    fn owns(&self, key: &CacheKey, file: &str) -> bool {
        self.entries.get(key).is_some_and(|e| e.file == file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(uri: &str) -> CacheKey {
        CacheKey {
            user: None,
            uri: uri.into(),
        }
    }

    fn download(book: &mut CacheBook, uri: &str, size: u64) -> (String, Option<Vec<String>>) {
        let Claim::Download(file) = book.claim(&key(uri), "f") else {
            panic!("{uri} is new");
        };
        let evicted = book.reserve(&key(uri), &file, size);
        if evicted.is_some() {
            assert!(book.complete(&key(uri), &file, size));
        }
        book.release(&key(uri), &file);
        (file, evicted)
    }

    #[test]
    fn second_claim_hits_or_waits() {
        let mut book = CacheBook::new(100);
        let Claim::Download(file) = book.claim(&key("a"), "a.sh") else {
            panic!()
        };
        assert!(file.ends_with("-a.sh"));
        assert_eq!(book.claim(&key("a"), "a.sh"), Claim::Wait);
        book.reserve(&key("a"), &file, 10).unwrap();
        assert_eq!(book.claim(&key("a"), "a.sh"), Claim::Wait);
        assert!(book.complete(&key("a"), &file, 10));
        assert_eq!(book.claim(&key("a"), "a.sh"), Claim::Ready(file));
        let other_user = CacheKey {
            user: Some("alice".into()),
            uri: "a".into(),
        };
        assert!(matches!(
            book.claim(&other_user, "a.sh"),
            Claim::Download(_)
        ));
    }

    #[test]
    fn eviction_is_least_recently_used_and_spares_held_entries() {
        let mut book = CacheBook::new(100);
        let (a, _) = download(&mut book, "a", 40);
        let (b, _) = download(&mut book, "b", 40);
        // a is used again, so b is the least recently used.
        assert_eq!(book.claim(&key("a"), "f"), Claim::Ready(a.clone()));
        book.release(&key("a"), &a);
        let (_, evicted) = download(&mut book, "c", 40);
        assert_eq!(evicted, Some(vec![b]));
        // a held: it cannot go, and c alone does not make room for 70.
        assert_eq!(book.claim(&key("a"), "f"), Claim::Ready(a.clone()));
        let (_, evicted) = download(&mut book, "d", 70);
        assert_eq!(evicted, None, "no room: bypass");
        assert!(book.is_ready(&key("a")));
        assert!(!book.is_ready(&key("d")));
        assert_eq!(download(&mut book, "huge", 101).1, None);
    }

    #[test]
    fn larger_than_reserved_is_not_kept() {
        let mut book = CacheBook::new(100);
        let Claim::Download(file) = book.claim(&key("a"), "f") else {
            panic!()
        };
        book.reserve(&key("a"), &file, 10).unwrap();
        assert!(!book.complete(&key("a"), &file, 11));
        assert_eq!(book.used(), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Claim(u8),
        Reserve(u8, u64),
        Complete(u8, u64),
        Fail(u8),
        Release(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..6).prop_map(Op::Claim),
            (0u8..6, 0u64..60).prop_map(|(k, s)| Op::Reserve(k, s)),
            (0u8..6, 0u64..60).prop_map(|(k, s)| Op::Complete(k, s)),
            (0u8..6).prop_map(Op::Fail),
            (0u8..6).prop_map(Op::Release),
        ]
    }

    proptest! {
        #[test]
        fn bounded_held_entries_stay_and_names_are_unique(ops in proptest::collection::vec(op(), 1..80)) {
            let mut book = CacheBook::new(100);
            // The claims each key holds (file names), as a model of the fetches in flight.
            let mut held: HashMap<u8, Vec<String>> = HashMap::new();
            let mut downloading: HashMap<u8, String> = HashMap::new();
            let mut names = std::collections::HashSet::new();
            for op in ops {
                match op {
                    Op::Claim(k) => match book.claim(&key(&k.to_string()), "x") {
                        Claim::Ready(f) => held.entry(k).or_default().push(f),
                        Claim::Download(f) => {
                            prop_assert!(names.insert(f.clone()), "file name reused");
                            held.entry(k).or_default().push(f.clone());
                            downloading.insert(k, f);
                        }
                        Claim::Wait => prop_assert!(downloading.contains_key(&k)),
                    },
                    Op::Reserve(k, s) => {
                        if let Some(f) = downloading.get(&k).cloned() {
                            if let Some(evicted) = book.reserve(&key(&k.to_string()), &f, s) {
                                for gone in evicted {
                                    prop_assert!(
                                        !held.values().flatten().any(|h| *h == gone),
                                        "evicted a held file"
                                    );
                                }
                            } else {
                                downloading.remove(&k);
                            }
                        }
                    }
                    Op::Complete(k, s) => {
                        if let Some(f) = downloading.remove(&k) {
                            book.complete(&key(&k.to_string()), &f, s);
                        }
                    }
                    Op::Fail(k) => {
                        if let Some(f) = downloading.remove(&k) {
                            book.fail(&key(&k.to_string()), &f);
                        }
                    }
                    Op::Release(k) => {
                        if let Some(f) = held.get_mut(&k).and_then(|v| v.pop()) {
                            book.release(&key(&k.to_string()), &f);
                        }
                    }
                }
                prop_assert!(book.used() <= 100, "used {} over capacity", book.used());
            }
        }
    }
}
