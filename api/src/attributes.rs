//! Agent attributes: the `--attributes` grammar and the JSON form.
//!
//! ```text
//! attributes := attribute ((";" | "\n") attribute)*
//! attribute  := name ":" value        (split at the first ':', so values may contain ':')
//! ```
//!
//! Values use the shared value grammar: `[a-b,...]` is RANGES, a number is SCALAR, other
//! text is TEXT; a set (`{...}`) is an error, as in Mesos. Order is kept as given, and an
//! attribute name may repeat (Mesos keeps both).
//!
//! JSON: `{"name":"rack","type":"TEXT","text":{"value":"abc"}}`, with `scalar` or `ranges`
//! for the other types. The serde impls are the JSON form (see `crate::v1` for how JSON-only
//! types travel in binary frames).

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::json::lenient;
use crate::resources::{parse_value, ParsedValue, Ranges, Scalar, Value, ValueType};

/// The value of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// A number.
    Scalar(Scalar),
    /// Integer intervals.
    Ranges(Ranges),
    /// Free text.
    Text(String),
}

impl AttributeValue {
    /// Its type.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::Scalar(_) => ValueType::Scalar,
            AttributeValue::Ranges(_) => ValueType::Ranges,
            AttributeValue::Text(_) => ValueType::Text,
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Scalar(s) => s.fmt(f),
            AttributeValue::Ranges(r) => {
                // Without the spaces Mesos's display puts in, so the text parses back as
                // one token.
                f.write_str("[")?;
                for (i, x) in r.as_slice().iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}-{}", x.begin, x.end)?;
                }
                f.write_str("]")
            }
            AttributeValue::Text(t) => f.write_str(t),
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: AttributeValue,
}

/// An agent's attributes, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Attributes(pub Vec<Attribute>);

impl Attributes {
    /// Parses the `--attributes` flag; every error names the token.
    pub fn parse(text: &str) -> Result<Attributes> {
        let mut out = Vec::new();
        for token in text.split([';', '\n']) {
            if token.trim().is_empty() {
                continue;
            }
            out.push(parse_attribute(token)?);
        }
        Ok(Attributes(out))
    }

    /// The first attribute called `name`.
    pub fn get(&self, name: &str) -> Option<&AttributeValue> {
        self.0.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn parse_attribute(token: &str) -> Result<Attribute> {
    let fail = |reason: String| Error::BadAttribute {
        token: token.trim().to_string(),
        reason,
    };
    let (name, value) = token
        .split_once(':')
        .ok_or_else(|| fail("expected 'name:value'".into()))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(fail("missing attribute name".into()));
    }
    let value = match parse_value(value)? {
        ParsedValue::Text(t) if t.is_empty() => return Err(fail("missing value".into())),
        ParsedValue::Text(t) => AttributeValue::Text(t),
        ParsedValue::Value(Value::Scalar(s)) => AttributeValue::Scalar(s),
        ParsedValue::Value(Value::Ranges(r)) => AttributeValue::Ranges(r),
        ParsedValue::Value(Value::Set(_)) => {
            return Err(fail("sets are not allowed as attribute values".into()))
        }
    };
    Ok(Attribute {
        name: name.to_string(),
        value,
    })
}

impl fmt::Display for Attributes {
    /// `name:value;name:value`, which parses back to an equal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:{}", a.name, a.value)?;
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct ScalarJson {
    #[serde(deserialize_with = "lenient")]
    value: f64,
}

#[derive(Serialize, Deserialize)]
struct RangeJson {
    #[serde(deserialize_with = "lenient")]
    begin: u64,
    #[serde(deserialize_with = "lenient")]
    end: u64,
}

#[derive(Serialize, Deserialize)]
struct RangesJson {
    #[serde(default, deserialize_with = "crate::json::null_as_default")]
    range: Vec<RangeJson>,
}

#[derive(Serialize, Deserialize)]
struct TextJson {
    value: String,
}

#[derive(Serialize, Deserialize)]
struct AttributeJson {
    name: String,
    #[serde(rename = "type")]
    kind: ValueType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scalar: Option<ScalarJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ranges: Option<RangesJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<TextJson>,
}

impl Serialize for Attribute {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut out = AttributeJson {
            name: self.name.clone(),
            kind: self.value.value_type(),
            scalar: None,
            ranges: None,
            text: None,
        };
        match &self.value {
            AttributeValue::Scalar(x) => out.scalar = Some(ScalarJson { value: x.as_f64() }),
            AttributeValue::Ranges(r) => {
                out.ranges = Some(RangesJson {
                    range: r
                        .as_slice()
                        .iter()
                        .map(|x| RangeJson {
                            begin: x.begin,
                            end: x.end,
                        })
                        .collect(),
                })
            }
            AttributeValue::Text(t) => out.text = Some(TextJson { value: t.clone() }),
        }
        out.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let input = AttributeJson::deserialize(d)?;
        let missing = |field: &str| {
            D::Error::custom(format!(
                "attribute '{}' of type {} needs '{field}'",
                input.name,
                input.kind.as_str()
            ))
        };
        let value = match input.kind {
            ValueType::Scalar => AttributeValue::Scalar(
                Scalar::from_f64(
                    input
                        .scalar
                        .as_ref()
                        .ok_or_else(|| missing("scalar"))?
                        .value,
                )
                .map_err(D::Error::custom)?,
            ),
            ValueType::Ranges => AttributeValue::Ranges(
                Ranges::from_pairs(
                    input
                        .ranges
                        .as_ref()
                        .ok_or_else(|| missing("ranges"))?
                        .range
                        .iter()
                        .map(|r| (r.begin, r.end)),
                )
                .map_err(D::Error::custom)?,
            ),
            ValueType::Text => AttributeValue::Text(
                input
                    .text
                    .as_ref()
                    .ok_or_else(|| missing("text"))?
                    .value
                    .clone(),
            ),
            ValueType::Set => {
                return Err(D::Error::custom(format!(
                    "attribute '{}': SET is not allowed for attributes",
                    input.name
                )))
            }
        };
        Ok(Attribute {
            name: input.name,
            value,
        })
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Attributes(
            Option::<Vec<Attribute>>::deserialize(d)?.unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_reference_example() {
        let a =
            Attributes::parse("rack:abc;zone:west;os:centos5;level:10;keys:[1000-1500]").unwrap();
        assert_eq!(a.0.len(), 5);
        assert_eq!(a.get("rack"), Some(&AttributeValue::Text("abc".into())));
        assert_eq!(a.get("os"), Some(&AttributeValue::Text("centos5".into())));
        assert_eq!(
            a.get("level"),
            Some(&AttributeValue::Scalar(Scalar::from_units(10)))
        );
        assert_eq!(
            a.get("keys"),
            Some(&AttributeValue::Ranges(Ranges::single(1000, 1500).unwrap()))
        );
        assert_eq!(
            a.to_string(),
            "rack:abc;zone:west;os:centos5;level:10;keys:[1000-1500]"
        );
    }

    #[test]
    fn values_may_contain_colons_and_newlines_separate() {
        let a = Attributes::parse("url:http://x:80\nzone:west").unwrap();
        assert_eq!(
            a.get("url"),
            Some(&AttributeValue::Text("http://x:80".into()))
        );
        assert_eq!(a.get("zone"), Some(&AttributeValue::Text("west".into())));
    }

    #[test]
    fn malformed_attributes_name_the_token() {
        for (text, token) in [
            ("keys:{a,b}", "keys:{a,b}"),
            ("rack", "rack"),
            (":abc", ":abc"),
            ("rack:", "rack:"),
            ("keys:[5-1]", "[5-1]"),
            ("level:-1", "-1"),
        ] {
            let err = Attributes::parse(text).expect_err(text).to_string();
            assert!(err.contains(&format!("'{token}'")), "{text}: {err}");
        }
    }

    #[test]
    fn json_round_trip_and_mesos_shape() {
        let a = Attributes::parse("rack:abc;level:10;keys:[1000-1500]").unwrap();
        let json = crate::json::to_string(&a);
        assert_eq!(
            json,
            r#"[{"name":"rack","type":"TEXT","text":{"value":"abc"}},{"name":"level","type":"SCALAR","scalar":{"value":10.0}},{"name":"keys","type":"RANGES","ranges":{"range":[{"begin":1000,"end":1500}]}}]"#
        );
        let back: Attributes = crate::json::from_str(&json, &Default::default()).unwrap();
        assert_eq!(back, a);
        let err = crate::json::from_str::<Attributes>(
            r#"[{"name":"x","type":"SET","set":{"item":["a"]}}]"#,
            &Default::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SET is not allowed"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn display_parses_back(text in "([a-z]{1,4}:([a-z][a-z0-9]{0,4}|[0-9]{1,3}|\\[[0-9]-[1-9][0-9]\\]);){0,4}") {
            if let Ok(a) = Attributes::parse(&text) {
                prop_assert_eq!(Attributes::parse(&a.to_string()).unwrap(), a);
            }
        }

        #[test]
        fn random_text_never_panics(text in "[a-z0-9(){}\\[\\]:;,.\\- \n]{0,40}") {
            let _ = Attributes::parse(&text);
        }
    }
}
