//! The REST route table, built once from the descriptor set's `google.api.http`
//! annotations: every public RPC gets its bindings, nothing is written per RPC.

use http::Method;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

/// What of the request becomes the HTTP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRule {
    None,
    All,
    Field(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
}

/// A parsed path template such as `/v1/teams/{team_id}/missions/{mission_id}:end`.
#[derive(Debug, Clone)]
pub struct Template {
    pub raw: String,
    segments: Vec<Segment>,
    verb: Option<String>,
}

impl Template {
    pub fn parse(raw: &str) -> Option<Self> {
        let path = raw.strip_prefix('/')?;
        // The custom verb follows the last ':' that is outside braces.
        let (path, verb) = match path.rfind(':') {
            Some(i) if !path[i..].contains('}') => (&path[..i], Some(path[i + 1..].to_owned())),
            _ => (path, None),
        };
        let segments = path
            .split('/')
            .map(|s| {
                if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    // `{name}` or `{name=pattern}`: we bind one segment.
                    Segment::Variable(inner.split('=').next().unwrap_or(inner).to_owned())
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        Some(Self {
            raw: raw.to_owned(),
            segments,
            verb,
        })
    }

    /// Variables bound by `path`, or None when it does not match.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let path = path.strip_prefix('/')?;
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut bound = Vec::new();
        let last = parts.len() - 1;
        for (i, (seg, part)) in self.segments.iter().zip(&parts).enumerate() {
            let part: &str = if i == last {
                match &self.verb {
                    Some(verb) => part.strip_suffix(verb.as_str())?.strip_suffix(':')?,
                    None => part,
                }
            } else {
                part
            };
            match seg {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(name) => {
                    // A custom verb is never part of an id.
                    if part.is_empty() || (i == last && self.verb.is_none() && part.contains(':')) {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(part)
                        .decode_utf8()
                        .ok()?
                        .into_owned();
                    bound.push((name.clone(), value));
                }
            }
        }
        Some(bound)
    }

    pub fn variables(&self) -> Vec<String> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Variable(v) => Some(v.clone()),
                Segment::Literal(_) => None,
            })
            .collect()
    }

    /// The template in OpenAPI form: `{var}` kept, custom verb appended.
    pub fn openapi_path(&self) -> String {
        self.raw.clone()
    }
}

/// One REST binding of an RPC.
#[derive(Debug, Clone)]
pub struct Route {
    pub http_method: Method,
    pub template: Template,
    pub body: BodyRule,
    pub method: MethodDescriptor,
}

impl Route {
    /// `/package.Service/Method`, the gRPC path of the bound RPC.
    pub fn grpc_path(&self) -> String {
        format!(
            "/{}/{}",
            self.method.parent_service().full_name(),
            self.method.name()
        )
    }
}

fn rule_routes(method: &MethodDescriptor, rule: &DynamicMessage, out: &mut Vec<Route>) {
    let get = |name: &str| -> Option<String> {
        rule.get_field_by_name(name).and_then(|v| match v.as_ref() {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
    };
    let pattern = [
        ("get", Method::GET),
        ("post", Method::POST),
        ("put", Method::PUT),
        ("delete", Method::DELETE),
        ("patch", Method::PATCH),
    ]
    .into_iter()
    .find_map(|(field, m)| get(field).map(|p| (m, p)));
    if let Some((http_method, path)) = pattern
        && let Some(template) = Template::parse(&path)
    {
        let body = match get("body").as_deref() {
            None => BodyRule::None,
            Some("*") => BodyRule::All,
            Some(field) => BodyRule::Field(field.to_owned()),
        };
        out.push(Route {
            http_method,
            template,
            body,
            method: method.clone(),
        });
    }
    if let Some(extra) = rule.get_field_by_name("additional_bindings")
        && let Value::List(list) = extra.as_ref()
    {
        for v in list {
            if let Value::Message(m) = v {
                rule_routes(method, m, out);
            }
        }
    }
}

/// Every REST binding of every public service in the pool.
pub fn build(pool: &DescriptorPool) -> Vec<Route> {
    let Some(http) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    for service in pool.services() {
        if !moing_proto::is_public_service(service.full_name()) {
            continue;
        }
        for method in service.methods() {
            let options = method.options();
            if !options.has_extension(&http) {
                continue;
            }
            if let Value::Message(rule) = options.get_extension(&http).as_ref() {
                rule_routes(&method, rule, &mut routes);
            }
        }
    }
    // Literal segments win over variables when two templates could both match.
    routes.sort_by_key(|r| {
        std::cmp::Reverse(
            r.template
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count(),
        )
    });
    routes
}

/// The outcome of looking a request up.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a Route, Vec<(String, String)>),
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

pub fn lookup<'a>(routes: &'a [Route], method: &Method, path: &str) -> Lookup<'a> {
    let mut allowed = Vec::new();
    for route in routes {
        if let Some(bound) = route.template.matches(path) {
            if route.http_method == *method {
                return Lookup::Found(route, bound);
            }
            allowed.push(route.http_method.clone());
        }
    }
    if allowed.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_variables_and_verbs() {
        let t = Template::parse("/v1/teams/{team_id}/missions/{mission_id}:end").expect("parse");
        assert_eq!(
            t.matches("/v1/teams/a/missions/b:end"),
            Some(vec![
                ("team_id".into(), "a".into()),
                ("mission_id".into(), "b".into())
            ])
        );
        assert_eq!(t.matches("/v1/teams/a/missions/b"), None);
        assert_eq!(t.matches("/v1/teams/a/missions/b:start"), None);
        let plain = Template::parse("/v1/teams/{team_id}").expect("parse");
        assert_eq!(
            plain.matches("/v1/teams/x%20y"),
            Some(vec![("team_id".into(), "x y".into())])
        );
        assert_eq!(plain.matches("/v1/teams/"), None);
        let verb_only = Template::parse("/v1/auth/nicknames:check").expect("parse");
        assert!(verb_only.matches("/v1/auth/nicknames:check").is_some());
        assert!(verb_only.matches("/v1/auth/nicknames").is_none());
    }

    #[test]
    fn every_public_rpc_has_a_route() {
        let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("pool");
        let routes = build(&pool);
        let mut missing = Vec::new();
        for service in pool
            .services()
            .filter(|s| moing_proto::is_public_service(s.full_name()))
        {
            for method in service.methods() {
                if !routes
                    .iter()
                    .any(|r| r.method.full_name() == method.full_name())
                {
                    missing.push(method.full_name().to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "RPCs without a REST route: {missing:?}");
        assert!(routes.len() >= 80, "{} routes", routes.len());
    }

    #[test]
    fn method_and_path_pairs_are_unique() {
        let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("pool");
        let routes = build(&pool);
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(
                seen.insert((r.http_method.clone(), r.template.raw.clone())),
                "duplicate {} {}",
                r.http_method,
                r.template.raw
            );
        }
    }
}
