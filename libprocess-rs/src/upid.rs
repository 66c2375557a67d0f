//! `Upid`: the address of a process, written `id@ip:port` (IPv6 as `id@[::1]:port`).
//!
//! A `Upid` is cheap to clone (one reference count) and compares by value. Parsing is strict:
//! every malformed string yields a [`ParseUpidError`] naming what was wrong and the input.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// The address of a process: its id on a node, and the node's listening address.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upid(Arc<UpidInner>);

#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
struct UpidInner {
    id: Box<str>,
    addr: SocketAddr,
    /// The display form, computed once: frames carry it on every remote send.
    text: Box<str>,
}

/// Why a string is not a valid `Upid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseUpidError {
    /// No `@` separates the id from the address.
    #[error("upid {input:?} has no '@' between id and address")]
    MissingAt {
        /// The offending input.
        input: String,
    },
    /// The id before `@` is empty.
    #[error("upid {input:?} has an empty id")]
    EmptyId {
        /// The offending input.
        input: String,
    },
    /// The id contains a character that cannot appear in a URL path segment or frame.
    #[error("upid {input:?} has an invalid character {ch:?} in its id")]
    BadIdChar {
        /// The offending input.
        input: String,
        /// The first invalid character.
        ch: char,
    },
    /// No `:port` follows the host.
    #[error("upid {input:?} has no ':port' after the host")]
    MissingPort {
        /// The offending input.
        input: String,
    },
    /// The host is not an IPv4 address or a bracketed IPv6 address.
    #[error("upid {input:?} has a bad ip {ip:?}")]
    BadIp {
        /// The offending input.
        input: String,
        /// The host part that failed to parse.
        ip: String,
    },
    /// The port is not a number in 0..=65535.
    #[error("upid {input:?} has a bad port {port:?}")]
    BadPort {
        /// The offending input.
        input: String,
        /// The port part that failed to parse.
        port: String,
    },
}

impl Upid {
    /// Builds a `Upid` from an id and a node address. The id is not validated; use
    /// [`Upid::from_str`] for untrusted input.
    pub fn new(id: impl Into<Box<str>>, addr: SocketAddr) -> Self {
        let id = id.into();
        // SocketAddr's Display already brackets IPv6 hosts.
        let text = format!("{id}@{addr}").into_boxed_str();
        Upid(Arc::new(UpidInner { id, addr, text }))
    }

    /// The display form `id@ip:port`, without allocating.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The process id on its node, e.g. `master` or `worker(3)`.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The listening address of the node the process lives on.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }
}

/// Whether `ch` may appear in a process id: ids appear in URL paths and in frames.
pub(crate) fn valid_id_char(ch: char) -> bool {
    ch.is_ascii_graphic() && !matches!(ch, '@' | '/' | '?' | '#' | '%')
}

impl FromStr for Upid {
    type Err = ParseUpidError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let owned = || input.to_string();
        let (id, host_port) = input
            .split_once('@')
            .ok_or_else(|| ParseUpidError::MissingAt { input: owned() })?;
        if id.is_empty() {
            return Err(ParseUpidError::EmptyId { input: owned() });
        }
        if let Some(ch) = id.chars().find(|c| !valid_id_char(*c)) {
            return Err(ParseUpidError::BadIdChar { input: owned(), ch });
        }
        let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| ParseUpidError::BadIp {
                input: owned(),
                ip: host_port.to_string(),
            })?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| ParseUpidError::MissingPort { input: owned() })?;
            (host, port)
        } else {
            host_port
                .rsplit_once(':')
                .ok_or_else(|| ParseUpidError::MissingPort { input: owned() })?
        };
        let ip: IpAddr = host.parse().map_err(|_| ParseUpidError::BadIp {
            input: owned(),
            ip: host.to_string(),
        })?;
        // An unbracketed IPv6 host is ambiguous with the port separator: refuse it.
        if ip.is_ipv6() && !host_port.starts_with('[') {
            return Err(ParseUpidError::BadIp {
                input: owned(),
                ip: host.to_string(),
            });
        }
        let port: u16 = if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            port.parse().ok()
        }
        .ok_or_else(|| ParseUpidError::BadPort {
            input: owned(),
            port: port.to_string(),
        })?;
        Ok(Upid::new(id, SocketAddr::new(ip, port)))
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl fmt::Debug for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Upid({self})")
    }
}

impl serde::Serialize for Upid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Upid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_displays_ipv4_and_ipv6() {
        let v4: Upid = "master@127.0.0.1:5050".parse().unwrap();
        assert_eq!(v4.id(), "master");
        assert_eq!(v4.addr(), "127.0.0.1:5050".parse().unwrap());
        assert_eq!(v4.to_string(), "master@127.0.0.1:5050");
        let v6: Upid = "slave(1)@[::1]:5051".parse().unwrap();
        assert_eq!(v6.id(), "slave(1)");
        assert_eq!(v6.to_string(), "slave(1)@[::1]:5051");
    }

    #[test]
    fn each_malformed_input_gets_its_own_error() {
        type Check = fn(&ParseUpidError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("master127.0.0.1:5050", |e| {
                matches!(e, ParseUpidError::MissingAt { .. })
            }),
            ("@127.0.0.1:5050", |e| {
                matches!(e, ParseUpidError::EmptyId { .. })
            }),
            ("a/b@127.0.0.1:5050", |e| {
                matches!(e, ParseUpidError::BadIdChar { ch: '/', .. })
            }),
            ("m@127.0.0.1", |e| {
                matches!(e, ParseUpidError::MissingPort { .. })
            }),
            ("m@300.0.0.1:1", |e| {
                matches!(e, ParseUpidError::BadIp { .. })
            }),
            ("m@host:1", |e| matches!(e, ParseUpidError::BadIp { .. })),
            ("m@::1:5050", |e| matches!(e, ParseUpidError::BadIp { .. })),
            ("m@[::1:5050", |e| matches!(e, ParseUpidError::BadIp { .. })),
            ("m@[::1]5050", |e| {
                matches!(e, ParseUpidError::MissingPort { .. })
            }),
            ("m@1.2.3.4:70000", |e| {
                matches!(e, ParseUpidError::BadPort { .. })
            }),
            ("m@1.2.3.4:+1", |e| {
                matches!(e, ParseUpidError::BadPort { .. })
            }),
            ("m@1.2.3.4:", |e| {
                matches!(e, ParseUpidError::BadPort { .. })
            }),
        ];
        for (input, check) in cases {
            let err = input.parse::<Upid>().expect_err(input);
            assert!(check(&err), "{input}: unexpected {err:?}");
            assert!(err.to_string().contains(input), "{err} should name {input}");
        }
    }

    #[test]
    fn serde_roundtrip_is_the_display_form() {
        let upid: Upid = "w(2)@[::1]:9".parse().unwrap();
        let json = serde_json::to_string(&upid).unwrap();
        assert_eq!(json, "\"w(2)@[::1]:9\"");
        assert_eq!(serde_json::from_str::<Upid>(&json).unwrap(), upid);
        assert!(serde_json::from_str::<Upid>("\"nope\"").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn display_then_parse_roundtrips(id in "[a-zA-Z0-9_().-]{1,20}", v6 in any::<bool>(),
                                         a in any::<u32>(), port in any::<u16>()) {
            let ip: IpAddr = if v6 {
                IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) << 7))
            } else {
                IpAddr::V4(a.into())
            };
            let upid = Upid::new(id.as_str(), SocketAddr::new(ip, port));
            let parsed: Upid = upid.to_string().parse().unwrap();
            prop_assert_eq!(parsed, upid);
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Upid>();
        }
    }
}
