//! OpenAPI 3.1 for the whole REST surface, generated from the same descriptors
//! and route table the gateway serves, so the document cannot drift from it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use prost_reflect::{
    Cardinality, DescriptorPool, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
};
use serde_json::{Map, Value, json};

use crate::{
    comments::{self, Comments},
    routes::{BodyRule, Route},
};

fn well_known(name: &str) -> Option<Value> {
    Some(match name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => {
            json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"})
        }
        "google.protobuf.FieldMask" => {
            json!({"type": "string", "description": "comma-separated camelCase field paths"})
        }
        "google.protobuf.Empty" => json!({"type": "object"}),
        "google.protobuf.StringValue" => json!({"type": "string"}),
        "google.protobuf.BoolValue" => json!({"type": "boolean"}),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({"type": "integer"}),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => {
            json!({"type": "string", "format": "int64"})
        }
        "google.protobuf.Struct" => json!({"type": "object"}),
        "google.protobuf.Value" => json!({}),
        _ => return None,
    })
}

struct Gen {
    schemas: BTreeMap<String, Value>,
    pending: BTreeSet<String>,
    comments: Comments,
    /// `google.api.field_behavior`, to mark REQUIRED fields of request bodies.
    behavior: Option<ExtensionDescriptor>,
}

/// `google.api.FieldBehavior.REQUIRED`.
const REQUIRED: i32 = 2;

impl Gen {
    fn new(pool: &DescriptorPool) -> Self {
        Self {
            schemas: BTreeMap::new(),
            pending: BTreeSet::new(),
            comments: Comments::new(pool),
            behavior: pool.get_extension_by_name("google.api.field_behavior"),
        }
    }

    fn is_required(&self, f: &FieldDescriptor) -> bool {
        let Some(ext) = &self.behavior else {
            return false;
        };
        let options = f.options();
        options.has_extension(ext)
            && matches!(options.get_extension(ext).as_ref(), prost_reflect::Value::List(l)
                if l.iter().any(|v| v.as_enum_number() == Some(REQUIRED)))
    }

    /// A field's comment, with the values of its enum and their comments.
    fn field_description(&self, f: &FieldDescriptor) -> Option<String> {
        let mut text = self
            .comments
            .of(f.parent_file().name(), f.path())
            .map(comments::description)
            .unwrap_or_default();
        if let Kind::Enum(e) = f.kind() {
            let values: Vec<String> = e
                .values()
                .map(
                    |v| match self.comments.of(v.parent_file().name(), v.path()) {
                        Some(c) => format!("- `{}`: {}", v.name(), c.replace('\n', " ")),
                        None => format!("- `{}`", v.name()),
                    },
                )
                .collect();
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&values.join("\n"));
        }
        (!text.is_empty()).then_some(text)
    }

    fn message_ref(&mut self, m: &MessageDescriptor) -> Value {
        if let Some(v) = well_known(m.full_name()) {
            return v;
        }
        if !self.schemas.contains_key(m.full_name()) {
            self.pending.insert(m.full_name().to_owned());
        }
        json!({"$ref": format!("#/components/schemas/{}", m.full_name())})
    }

    fn kind_schema(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::String => json!({"type": "string"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int32", "minimum": 0})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "string", "format": "int64"})
            }
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64"}),
            Kind::Float | Kind::Double => json!({"type": "number"}),
            Kind::Enum(e) => {
                let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                json!({"type": "string", "enum": names})
            }
            Kind::Message(m) => self.message_ref(m),
        }
    }

    fn field_schema(&mut self, f: &FieldDescriptor) -> Value {
        if f.is_map() {
            let Kind::Message(entry) = f.kind() else {
                return json!({});
            };
            let value = entry.map_entry_value_field();
            return json!({"type": "object", "additionalProperties": self.kind_schema(&value.kind())});
        }
        let item = self.kind_schema(&f.kind());
        if f.cardinality() == Cardinality::Repeated {
            json!({"type": "array", "items": item})
        } else {
            item
        }
    }

    /// A message's schema; `input`: a request body, whose REQUIRED fields are
    /// listed as `required` (responses omit empty fields, so they list none).
    fn message_schema(&mut self, m: &MessageDescriptor, skip: &[String], input: bool) -> Value {
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in m.fields() {
            if skip.iter().any(|s| s == f.name()) {
                continue;
            }
            let mut schema = self.field_schema(&f);
            if let (Some(text), Some(obj)) = (self.field_description(&f), schema.as_object_mut()) {
                obj.insert("description".into(), json!(text));
            }
            if input && self.is_required(&f) {
                required.push(f.json_name().to_owned());
            }
            props.insert(f.json_name().to_owned(), schema);
        }
        let mut schema =
            json!({"type": "object", "properties": props, "additionalProperties": false});
        if let Some(text) = self.comments.of(m.parent_file().name(), m.path()) {
            schema["description"] = json!(comments::description(text));
        }
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        schema
    }

    fn drain(&mut self, pool: &prost_reflect::DescriptorPool) {
        while let Some(name) = self.pending.pop_first() {
            if self.schemas.contains_key(&name) {
                continue;
            }
            if let Some(m) = pool.get_message_by_name(&name) {
                self.schemas.insert(name.clone(), json!({}));
                let schema = self.message_schema(&m, &[], false);
                self.schemas.insert(name, schema);
            }
        }
    }
}

fn query_params(schemas_gen: &mut Gen, m: &MessageDescriptor, skip: &[String]) -> Vec<Value> {
    m.fields()
        .filter(|f| !skip.iter().any(|s| s == f.name()))
        .filter(|f| {
            !f.is_map()
                && !matches!(f.kind(), Kind::Message(ref k) if well_known(k.full_name()).is_none())
        })
        .map(|f| {
            let mut param = json!({
                "name": f.json_name(),
                "in": "query",
                "required": false,
                "schema": schemas_gen.field_schema(&f),
            });
            if let Some(text) = schemas_gen.field_description(&f) {
                param["description"] = json!(text);
            }
            param
        })
        .collect()
}

/// Worked request bodies of the calls every client makes first. The team's
/// dates are tomorrow and four weeks on in Seoul, so the example stays valid.
fn example(method: &str) -> Option<Value> {
    let seoul = chrono::FixedOffset::east_opt(9 * 3600)?;
    let today = moing_common::clock::today_in(&seoul);
    let date = |days: i64| {
        let d = today + chrono::Duration::days(days);
        json!({"year": d.year(), "month": d.month(), "day": d.day()})
    };
    Some(match method {
        "moing.auth.v1.AuthService.SignIn" => json!({
            "development": {"nickname": "alice"},
            "device": {"name": "Pixel 8", "platform": "DEVICE_PLATFORM_ANDROID"}
        }),
        "moing.moim.v1.TeamService.CreateTeam" => json!({
            "name": "매일 30페이지",
            "category": "TEAM_CATEGORY_STUDY",
            "introduction": "하루 30페이지씩 읽고 사진으로 인증해요",
            "leaderPromise": "끝까지 함께해요",
            "startDate": date(1),
            "endDate": date(29)
        }),
        "moing.mission.v1.MissionService.SubmitProof" => json!({
            "text": "오늘 30페이지 읽었어요",
            "caption": "3장까지"
        }),
        _ => return None,
    })
}

/// One tag per routed service, described by the service's comment.
fn service_tags(schemas_gen: &Gen, routes: &[Route]) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    routes
        .iter()
        .map(|r| r.method.parent_service())
        .filter(|s| seen.insert(s.full_name().to_owned()))
        .map(|s| {
            let text = schemas_gen
                .comments
                .of(s.parent_file().name(), s.path())
                .map(comments::description)
                .unwrap_or_default();
            json!({"name": s.full_name(), "description": text})
        })
        .collect()
}

/// One operation: id, tag, summary and description (the method's comment),
/// parameters, body, responses and security.
fn operation(schemas_gen: &mut Gen, route: &Route) -> Map<String, Value> {
    let input = route.method.input();
    let vars = route.template.variables();
    let mut params: Vec<Value> = vars
        .iter()
        .map(|v| {
            let mut param = json!({"name": v, "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[^/:]+$"}});
            if let Some(text) = input
                .get_field_by_name(v)
                .and_then(|f| schemas_gen.field_description(&f))
            {
                param["description"] = json!(text);
            }
            param
        })
        .collect();
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.method.full_name()));
    let method = &route.method;
    let text = schemas_gen
        .comments
        .of(method.parent_file().name(), method.path())
        .unwrap_or(method.name());
    op.insert("summary".into(), json!(comments::summary(text)));
    op.insert("description".into(), json!(comments::description(text)));
    op.insert(
        "tags".into(),
        json!([route.method.parent_service().full_name()]),
    );
    match &route.body {
        BodyRule::All => {
            let schema = schemas_gen.message_schema(&input, &vars, true);
            let mut media = json!({"schema": schema});
            if let Some(example) = example(route.method.full_name()) {
                media["example"] = example;
            }
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": media}}),
            );
        }
        BodyRule::Field(f) => {
            if let Some(field) = input.get_field_by_name(f) {
                let schema = schemas_gen.field_schema(&field);
                op.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": {"application/json": {"schema": schema}}}),
                );
            }
            let mut skip = vars.clone();
            skip.push(f.clone());
            params.extend(query_params(schemas_gen, &input, &skip));
        }
        BodyRule::None => params.extend(query_params(schemas_gen, &input, &vars)),
    }
    op.insert("parameters".into(), json!(params));
    let output = schemas_gen.message_ref(&route.method.output());
    let content_type = if route.method.is_server_streaming() {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    op.insert(
        "responses".into(),
        json!({
            "200": {"description": "OK", "content": {content_type: {"schema": output}}},
            "default": {"description": "Error: the status of the call and its details (see the document description)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }),
    );
    if !matches!(
        route.method.full_name(),
        "moing.auth.v1.AuthService.SignIn"
            | "moing.auth.v1.AuthService.RefreshToken"
            | "moing.auth.v1.AuthService.GetJwks"
    ) {
        op.insert("security".into(), json!([{"bearer": []}]));
    }
    op
}

/// The OpenAPI document for `routes`.
pub fn document(pool: &prost_reflect::DescriptorPool, routes: &[Route]) -> Value {
    let mut schemas_gen = Gen::new(pool);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for route in routes {
        let op = operation(&mut schemas_gen, route);
        paths
            .entry(route.template.openapi_path())
            .or_default()
            .insert(route.http_method.as_str().to_lowercase(), Value::Object(op));
    }
    let tags = service_tags(&schemas_gen, routes);
    schemas_gen.drain(pool);
    let mut schemas: Map<String, Value> = schemas_gen.schemas.into_iter().collect();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "integer", "description": "gRPC status code"},
                "status": {"type": "string", "description": "gRPC status name"},
                "message": {"type": "string", "description": "for people; branch on the ErrorInfo reason instead"},
                "details": {"type": "array", "items": {"type": "object"}, "description": "google.rpc.ErrorInfo (reason, domain, metadata such as retry_after_seconds) and, for bad input, google.rpc.BadRequest (fieldViolations)"}
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "MOING API",
            "version": "v1",
            "description": "REST/JSON transcoding of the MOING gRPC API (google.api.http); the same methods answer gRPC and gRPC-web at this address.\n\n**Errors** are `{\"code\", \"status\", \"message\", \"details\"}`: the gRPC code number and name, a message for people, and `details` with a `google.rpc.ErrorInfo` (`reason`: the stable code to branch on, e.g. `TEAM_NOT_FOUND`) and, for bad input, a `google.rpc.BadRequest` naming each field. Example: `{\"code\": 3, \"status\": \"INVALID_ARGUMENT\", \"message\": \"invalid name: must be at most 20 characters\", \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.ErrorInfo\", \"reason\": \"VALIDATION_FAILED\", \"domain\": \"moing.app\", \"metadata\": {}}, {\"@type\": \"type.googleapis.com/google.rpc.BadRequest\", \"fieldViolations\": [{\"field\": \"name\", \"description\": \"must be at most 20 characters\"}]}]}`. Each operation lists its own reasons with their HTTP status.\n\n**Server streaming** (e.g. `GET /v1/teams/{team_id}/goal-board:watch`) answers `application/x-ndjson`: one JSON message per line as it comes; a failure mid-stream ends it with one error object line."
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation has a summary and a description; at least 95% of the
    /// schema properties (components and request bodies) have a description.
    #[test]
    fn the_proto_comments_reach_the_document() {
        let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("pool");
        let doc = document(&pool, &crate::routes::build(&pool));
        let mut undescribed_ops = Vec::new();
        let mut bodies = Vec::new();
        let paths = doc["paths"].as_object().expect("paths");
        for (path, ops) in paths {
            for (verb, op) in ops.as_object().expect("operations") {
                let has = |k: &str| op[k].as_str().is_some_and(|t| !t.trim().is_empty());
                if !(has("summary") && has("description")) {
                    undescribed_ops.push(format!("{verb} {path}"));
                }
                bodies.push(op["requestBody"]["content"]["application/json"]["schema"].clone());
            }
        }
        assert!(undescribed_ops.is_empty(), "{undescribed_ops:?}");
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let (mut total, mut missing) = (0, Vec::new());
        for (name, schema) in schemas
            .iter()
            .map(|(n, s)| (n.as_str(), s))
            .chain(bodies.iter().map(|b| ("body", b)))
        {
            for (prop, value) in schema["properties"].as_object().into_iter().flatten() {
                total += 1;
                if value["description"]
                    .as_str()
                    .is_none_or(|t| t.trim().is_empty())
                {
                    missing.push(format!("{name}.{prop}"));
                }
            }
        }
        let described = total - missing.len();
        eprintln!(
            "{} operations described; properties described: {described} of {total}",
            bodies.len()
        );
        assert!(
            described * 100 >= total * 95,
            "{described}/{total}; missing: {missing:?}"
        );
        let create =
            &doc["paths"]["/v1/teams"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(create["example"]["category"], json!("TEAM_CATEGORY_STUDY"));
        let get = &doc["paths"]["/v1/teams/{team_id}/goal-board"]["get"];
        let text = get["description"].as_str().unwrap_or("");
        assert!(
            text.contains("`NOT_FOUND/TEAM_NOT_FOUND` → HTTP 404"),
            "{text}"
        );
        assert!(
            doc["tags"].as_array().is_some_and(|t| t.len() >= 5),
            "{}",
            doc["tags"]
        );
    }
}
