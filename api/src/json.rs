//! JSON entry points with input limits, and serde helpers for Mesos's JSON mapping.
//!
//! [`from_slice`] is the one way untrusted JSON enters the system: it scans the bytes once
//! (no allocation) and refuses documents that are too large, nested too deeply (the class
//! of input behind CVE-2018-11793, where Mesos's recursive parser overflowed its stack),
//! have too long strings or too many elements in one array or object, and only then lets
//! serde_json decode. serde_json's own recursion limit (128) stays as a second guard.
//!
//! Helpers implement the stout mapping (see the HTTP reference §0.2): numbers and bools may
//! arrive as strings (`"5"`, `"true"`, `"Infinity"`), `null` means unset, unknown keys are
//! ignored (serde's default), output is compact.

use serde::de::{DeserializeOwned, Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// Bounds on untrusted JSON input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
    /// Longest string (bytes as encoded, escapes included).
    pub max_string_bytes: usize,
    /// Most elements in one array or members in one object.
    pub max_elements: usize,
    /// Largest document.
    pub max_document_bytes: usize,
}

impl Default for Limits {
    /// Generous for every real Mesos message, far below what could exhaust a stack or memory:
    /// depth 64, strings 4 MiB, 100 000 elements, documents 64 MiB.
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_string_bytes: 4 << 20,
            max_elements: 100_000,
            max_document_bytes: 64 << 20,
        }
    }
}

/// Checks `bytes` against `limits` without decoding. Malformed JSON that stays within the
/// limits passes; the decoder reports it.
pub fn check_limits(bytes: &[u8], limits: &Limits) -> Result<()> {
    if bytes.len() > limits.max_document_bytes {
        return Err(Error::JsonTooLarge {
            length: bytes.len(),
            limit: limits.max_document_bytes,
        });
    }
    // Element counts of the open containers: (start offset, commas seen, any value seen).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                // To the closing quote, skipping escaped characters (memchr: strings are
                // most of a document's bytes, and this runs on every wire message).
                while i < bytes.len() {
                    match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                        Some(at) if bytes[i + at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at;
                            break;
                        }
                        None => i = bytes.len(),
                    }
                }
                let length = i.min(bytes.len()) - start - 1;
                if length > limits.max_string_bytes {
                    return Err(Error::JsonStringTooLong {
                        length,
                        limit: limits.max_string_bytes,
                        offset: start,
                    });
                }
            }
            b'[' | b'{' => {
                if stack.len() >= limits.max_depth {
                    return Err(Error::JsonTooDeep {
                        depth: stack.len() + 1,
                        limit: limits.max_depth,
                        offset: i,
                    });
                }
                stack.push((i, 0));
            }
            b']' | b'}' => {
                stack.pop();
            }
            b',' => {
                if let Some((start, commas)) = stack.last_mut() {
                    *commas += 1;
                    if *commas >= limits.max_elements {
                        return Err(Error::JsonTooManyElements {
                            limit: limits.max_elements,
                            offset: *start,
                        });
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Decodes untrusted JSON after checking it against `limits`. Errors name the field or
/// token (serde_json's messages: "missing field `name`", "unknown variant `X`, expected
/// one of ...", with line and column).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8], limits: &Limits) -> Result<T> {
    check_limits(bytes, limits)?;
    serde_json::from_slice(bytes).map_err(|e| Error::Json {
        message: e.to_string(),
    })
}

/// [`from_slice`] for text.
pub fn from_str<T: DeserializeOwned>(text: &str, limits: &Limits) -> Result<T> {
    from_slice(text.as_bytes(), limits)
}

/// Compact JSON, as Mesos writes it (no newlines inside a record).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Serialising our own types to a String cannot fail: every map key is a string and no
    // Serialize impl here returns an error.
    serde_json::to_string(value).expect("meso-api types always serialise to JSON")
}

/// Compact JSON bytes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("meso-api types always serialise to JSON")
}

/// `deserialize_with` for fields where JSON `null` means "unset" and unset means default
/// (repeated fields, messages with defaults).
pub fn null_as_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Scalar types that stout's JSON mapping accepts as numbers or as strings.
pub trait Lenient: Sized {
    /// Converts a JSON number or string.
    fn from_json(value: LenientInput<'_>) -> std::result::Result<Self, String>;
}

/// What a lenient field received.
#[derive(Debug, Clone, Copy)]
pub enum LenientInput<'a> {
    /// An unsigned integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A floating point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// A string (to be parsed).
    Str(&'a str),
}

macro_rules! lenient_int {
    ($t:ty) => {
        impl Lenient for $t {
            fn from_json(value: LenientInput<'_>) -> std::result::Result<Self, String> {
                let out_of_range = || format!("{value:?} is out of range for {}", stringify!($t));
                match value {
                    LenientInput::U64(v) => <$t>::try_from(v).map_err(|_| out_of_range()),
                    LenientInput::I64(v) => <$t>::try_from(v).map_err(|_| out_of_range()),
                    LenientInput::F64(v) if v.fract() == 0.0 && v.is_finite() => {
                        let wide = v as i128;
                        <$t>::try_from(wide).map_err(|_| out_of_range())
                    }
                    LenientInput::Str(s) => s
                        .trim()
                        .parse::<$t>()
                        .map_err(|_| format!("'{s}' is not a valid {}", stringify!($t))),
                    other => Err(format!("{other:?} is not a valid {}", stringify!($t))),
                }
            }
        }
    };
}

lenient_int!(u64);
lenient_int!(i64);
lenient_int!(u32);
lenient_int!(i32);

impl Lenient for f64 {
    fn from_json(value: LenientInput<'_>) -> std::result::Result<Self, String> {
        match value {
            LenientInput::U64(v) => Ok(v as f64),
            LenientInput::I64(v) => Ok(v as f64),
            LenientInput::F64(v) => Ok(v),
            LenientInput::Str(s) => match s.trim() {
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                t => t
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("'{s}' is not a valid number")),
            },
            LenientInput::Bool(b) => Err(format!("{b} is not a valid number")),
        }
    }
}

impl Lenient for bool {
    fn from_json(value: LenientInput<'_>) -> std::result::Result<Self, String> {
        match value {
            LenientInput::Bool(b) => Ok(b),
            LenientInput::Str("true") => Ok(true),
            LenientInput::Str("false") => Ok(false),
            other => Err(format!("{other:?} is not a valid bool")),
        }
    }
}

struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for LenientVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number, a bool, or one of them as a string")
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<T, E> {
        T::from_json(LenientInput::U64(v)).map_err(E::custom)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<T, E> {
        T::from_json(LenientInput::I64(v)).map_err(E::custom)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<T, E> {
        T::from_json(LenientInput::F64(v)).map_err(E::custom)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<T, E> {
        T::from_json(LenientInput::Bool(v)).map_err(E::custom)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<T, E> {
        T::from_json(LenientInput::Str(v)).map_err(E::custom)
    }
}

/// `deserialize_with` for a required number or bool that may arrive as a string.
pub fn lenient<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    deserializer.deserialize_any(LenientVisitor(std::marker::PhantomData))
}

/// `deserialize_with` for an optional number or bool that may arrive as a string; `null`
/// is unset. Use with `#[serde(default)]`.
pub fn opt_lenient<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    struct Wrap<T>(T);
    impl<'de, T: Lenient> Deserialize<'de> for Wrap<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            lenient(d).map(Wrap)
        }
    }
    Ok(Option::<Wrap<T>>::deserialize(deserializer)?.map(|w| w.0))
}

/// `deserialize_with` for a bool with a Mesos default: missing (with
/// `#[serde(default = ...)]`) or `null` gives `DEFAULT`.
pub fn lenient_or_bool<'de, D, const DEFAULT: bool>(d: D) -> std::result::Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_lenient(d)?.unwrap_or(DEFAULT))
}

/// `deserialize_with` for a `u32` with a Mesos default; `null` gives `DEFAULT`.
pub fn lenient_or_u32<'de, D, const DEFAULT: u32>(d: D) -> std::result::Result<u32, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_lenient(d)?.unwrap_or(DEFAULT))
}

/// `deserialize_with` for a double with a Mesos default given in thousandths (floats cannot
/// be const parameters); `null` gives the default.
pub fn lenient_or_f64<'de, D, const DEFAULT_MILLI: i64>(d: D) -> std::result::Result<f64, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_lenient(d)?.unwrap_or(DEFAULT_MILLI as f64 / 1000.0))
}

/// `deserialize_with` for an optional enum: Mesos drops an unknown name in an optional
/// enum field instead of failing, so an unknown name becomes `None`.
pub fn lenient_enum<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = Option::<serde_json::Value>::deserialize(deserializer)?;
    match raw {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::String(_)) => Ok(serde_json::from_value(v).ok()),
        Some(other) => Err(D::Error::custom(format!(
            "expected an enum name string, found {other}"
        ))),
    }
}

/// Serde adapter for `bytes` fields: standard Base64 in JSON.
pub mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes Base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Reads Base64, naming the bad input.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("'{text}' is not Base64: {e}")))
    }
}

/// Serde adapter for optional `bytes` fields (use with `default` and
/// `skip_serializing_if = "Option::is_none"`).
pub mod opt_base64_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes Base64 (only called when set).
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::base64_bytes::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    /// Reads Base64; `null` is unset.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        struct Wrap(Vec<u8>);
        impl<'de> Deserialize<'de> for Wrap {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                super::base64_bytes::deserialize(d).map(Wrap)
            }
        }
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_a_clear_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = from_str::<serde_json::Value>(&deep, &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::JsonTooDeep { limit: 64, .. }), "{err}");
        assert!(err.to_string().contains("nested too deeply"));
        // Past serde_json's own limit too, when the caller raises ours.
        let limits = Limits {
            max_depth: 1_000_000,
            ..Limits::default()
        };
        let err = from_str::<serde_json::Value>(&deep, &limits).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn string_element_and_document_limits() {
        let limits = Limits {
            max_depth: 8,
            max_string_bytes: 10,
            max_elements: 3,
            max_document_bytes: 100,
        };
        let err = from_str::<serde_json::Value>(r#"["01234567890"]"#, &limits).unwrap_err();
        assert!(
            matches!(err, Error::JsonStringTooLong { length: 11, .. }),
            "{err}"
        );
        let err = from_str::<serde_json::Value>("[1,2,3,4]", &limits).unwrap_err();
        assert!(
            matches!(err, Error::JsonTooManyElements { limit: 3, .. }),
            "{err}"
        );
        let err = from_str::<serde_json::Value>(&"1".repeat(101), &limits).unwrap_err();
        assert!(
            matches!(err, Error::JsonTooLarge { length: 101, .. }),
            "{err}"
        );
        // Commas and brackets inside strings do not count.
        let ok: serde_json::Value = from_str(r#"["a,b,[", "c"]"#, &limits).unwrap();
        assert_eq!(ok[0], "a,b,[");
    }

    #[test]
    fn lenient_numbers() {
        #[derive(Debug, Deserialize)]
        struct N {
            #[serde(deserialize_with = "lenient")]
            a: u64,
            #[serde(deserialize_with = "lenient")]
            b: f64,
            #[serde(default, deserialize_with = "opt_lenient")]
            c: Option<i64>,
            #[serde(deserialize_with = "lenient")]
            d: bool,
        }
        let n: N = from_str(
            r#"{"a":"18446744073709551615","b":"Infinity","c":"-5","d":"true"}"#,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            (n.a, n.b, n.c, n.d),
            (u64::MAX, f64::INFINITY, Some(-5), true)
        );
        let err = from_str::<N>(r#"{"a":"x","b":1,"d":true}"#, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("'x' is not a valid u64"), "{err}");
    }
    /// The string scan before memchr: byte by byte, a backslash skipping the next byte.
    fn longest_string_bytewise(bytes: &[u8]) -> usize {
        let (mut i, mut longest) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'"' {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                longest = longest.max(i.min(bytes.len()) - start - 1);
            }
            i += 1;
        }
        longest
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// The memchr scan finds the same strings as the bytewise one: a limit one below
        /// the longest string refuses, the longest itself passes.
        #[test]
        fn string_limits_see_the_same_strings_as_a_bytewise_scan(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    proptest::prelude::Just(b'a'),
                    proptest::prelude::Just(b':'),
                ],
                0..64,
            )
        ) {
            let longest = longest_string_bytewise(&bytes);
            let at = |max_string_bytes| Limits { max_string_bytes, ..Limits::default() };
            proptest::prop_assert!(check_limits(&bytes, &at(longest)).is_ok());
            if longest > 0 {
                let refused = matches!(
                    check_limits(&bytes, &at(longest - 1)),
                    Err(Error::JsonStringTooLong { length, .. }) if length == longest
                );
                proptest::prop_assert!(refused);
            }
        }
    }
}
