//! REST/JSON ⇄ gRPC for one call, driven by the route's descriptors: the
//! request message is built from the body (proto3 JSON), the path variables and
//! the query string; the response is proto3 JSON (camelCase, enum names, 64-bit
//! integers as strings, RFC 3339 timestamps).

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value,
};

use crate::routes::{BodyRule, Route};

/// A request the gateway refuses before calling anyone (400).
#[derive(Debug)]
pub struct BadRequest(pub String);

fn scalar(field: &FieldDescriptor, raw: &str) -> Result<Value, BadRequest> {
    let bad = || BadRequest(format!("invalid value {raw:?} for field {}", field.name()));
    Ok(match field.kind() {
        Kind::String => Value::String(raw.to_owned()),
        Kind::Bool => Value::Bool(match raw {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad()),
        }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(raw.parse().map_err(|_| bad())?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(raw.parse().map_err(|_| bad())?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(raw.parse().map_err(|_| bad())?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(raw.parse().map_err(|_| bad())?),
        Kind::Float => Value::F32(raw.parse().map_err(|_| bad())?),
        Kind::Double => Value::F64(raw.parse().map_err(|_| bad())?),
        Kind::Bytes => Value::Bytes(raw.as_bytes().to_vec().into()),
        Kind::Enum(e) => match e.get_value_by_name(raw) {
            Some(v) => Value::EnumNumber(v.number()),
            None => {
                let n: i32 = raw.parse().map_err(|_| bad())?;
                e.get_value(n).ok_or_else(bad)?;
                Value::EnumNumber(n)
            }
        },
        Kind::Message(m) => {
            // Well-known scalars in query strings: Timestamp and FieldMask as JSON strings.
            let json = serde_json::Value::String(raw.to_owned());
            let msg = DynamicMessage::deserialize(m, json).map_err(|_| bad())?;
            Value::Message(msg)
        }
    })
}

/// Sets `path` (dotted: `a.b.c`, proto or JSON names) in `msg` from a text value.
fn set_path(
    msg: &mut DynamicMessage,
    path: &str,
    raw: &str,
    from_path: bool,
) -> Result<(), BadRequest> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let desc = msg.descriptor();
    let field = desc
        .get_field_by_name(head)
        .or_else(|| desc.get_field_by_json_name(head))
        .ok_or_else(|| BadRequest(format!("unknown parameter {path:?}")))?;
    match rest {
        Some(rest) => {
            let Kind::Message(_) = field.kind() else {
                return Err(BadRequest(format!("{head} has no field {rest}")));
            };
            if field.is_list() || field.is_map() {
                return Err(BadRequest(format!("{head} cannot be set from a parameter")));
            }
            let child = msg.get_field_mut(&field);
            if let Value::Message(child) = child {
                set_path(child, rest, raw, from_path)
            } else {
                Err(BadRequest(format!("{head} is not a message")))
            }
        }
        None => {
            if field.is_map() {
                return Err(BadRequest(format!("{head} cannot be set from a parameter")));
            }
            let value = scalar(&field, raw)?;
            if field.is_list() {
                if let Value::List(list) = msg.get_field_mut(&field) {
                    list.push(value);
                }
            } else {
                if from_path && matches!(field.kind(), Kind::Message(_)) {
                    return Err(BadRequest(format!("{head} cannot be bound from the path")));
                }
                msg.set_field(&field, value);
            }
            Ok(())
        }
    }
}

/// Builds the RPC's request message from the HTTP request parts.
pub fn request_message(
    route: &Route,
    bound: &[(String, String)],
    query: Option<&str>,
    body: &[u8],
) -> Result<DynamicMessage, BadRequest> {
    let input: MessageDescriptor = route.method.input();
    let parse_json = |desc: MessageDescriptor| -> Result<DynamicMessage, BadRequest> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let msg = DynamicMessage::deserialize(desc, &mut de)
            .map_err(|e| BadRequest(format!("malformed JSON body: {e}")))?;
        de.end()
            .map_err(|e| BadRequest(format!("malformed JSON body: {e}")))?;
        Ok(msg)
    };
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let mut msg = match &route.body {
        BodyRule::All if !blank => parse_json(input.clone())?,
        BodyRule::Field(name) if !blank => {
            let field = input
                .get_field_by_name(name)
                .ok_or_else(|| BadRequest(format!("body field {name} is unknown")))?;
            let mut msg = DynamicMessage::new(input.clone());
            let value = match field.kind() {
                Kind::Message(m) => Value::Message(parse_json(m)?),
                _ => return Err(BadRequest(format!("body field {name} is not a message"))),
            };
            msg.set_field(&field, value);
            msg
        }
        BodyRule::None if !blank => {
            return Err(BadRequest("this method takes no request body".into()));
        }
        _ => DynamicMessage::new(input.clone()),
    };
    // Path variables win over anything in the body.
    for (name, value) in bound {
        set_path(&mut msg, name, value, true)?;
    }
    // Query parameters fill the fields not bound by the path or the body.
    if route.body != BodyRule::All
        && let Some(query) = query
    {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| BadRequest(format!("parameter {k:?} is not UTF-8")))
            };
            let (k, v) = (decode(k)?, decode(v)?);
            if bound.iter().any(|(b, _)| *b == k) {
                continue;
            }
            if let BodyRule::Field(f) = &route.body
                && (k == *f || k.starts_with(&format!("{f}.")))
            {
                continue;
            }
            set_path(&mut msg, &k, &v, false)?;
        }
    }
    Ok(msg)
}

/// proto3 JSON of a response message.
pub fn response_json(msg: &DynamicMessage) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(msg)
}

#[cfg(test)]
mod tests {
    use prost_reflect::DescriptorPool;

    use super::*;
    use crate::routes::{Lookup, build, lookup};

    fn route_for(method: http::Method, path: &str) -> (Route, Vec<(String, String)>) {
        let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("pool");
        let routes = build(&pool);
        match lookup(&routes, &method, path) {
            Lookup::Found(r, b) => (r.clone(), b),
            other => panic!("no route for {path}: {other:?}"),
        }
    }

    #[test]
    fn body_path_and_query_fill_the_request() {
        let (route, bound) = route_for(http::Method::GET, "/v1/members/me/sessions");
        let msg =
            request_message(&route, &bound, Some("pageSize=5&page_token=abc"), b"").expect("ok");
        assert_eq!(
            msg.get_field_by_name("page_size").map(|v| v.as_i32()),
            Some(Some(5))
        );
        assert_eq!(
            msg.get_field_by_name("page_token")
                .and_then(|v| v.as_str().map(str::to_owned)),
            Some("abc".into())
        );

        let (route, bound) = route_for(http::Method::POST, "/v1/auth/sign-in");
        let body = br#"{"development":{"nickname":"x"},"device":{"name":"d","platform":"DEVICE_PLATFORM_WEB"}}"#;
        let msg = request_message(&route, &bound, None, body).expect("ok");
        assert!(msg.has_field_by_name("development"));
    }

    #[test]
    fn bad_input_is_a_bad_request() {
        let (route, bound) = route_for(http::Method::POST, "/v1/auth/sign-in");
        assert!(request_message(&route, &bound, None, b"{not json").is_err());
        assert!(request_message(&route, &bound, None, br#"{"unknownField":1}"#).is_err());
        let (route, bound) = route_for(http::Method::GET, "/v1/members/me/sessions");
        assert!(request_message(&route, &bound, Some("pageSize=abc"), b"").is_err());
        assert!(request_message(&route, &bound, Some("nope=1"), b"").is_err());
    }
}
