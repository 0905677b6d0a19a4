//! OpenAPI 3.1 for the whole REST surface, generated from the same descriptors
//! and route table the gateway serves, so the document cannot drift from it.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::routes::{BodyRule, Route};

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
}

impl Gen {
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

    fn message_schema(&mut self, m: &MessageDescriptor, skip: &[String]) -> Value {
        let mut props = Map::new();
        for f in m.fields() {
            if skip.iter().any(|s| s == f.name()) {
                continue;
            }
            let schema = self.field_schema(&f);
            props.insert(f.json_name().to_owned(), schema);
        }
        json!({"type": "object", "properties": props, "additionalProperties": false})
    }

    fn drain(&mut self, pool: &prost_reflect::DescriptorPool) {
        while let Some(name) = self.pending.pop_first() {
            if self.schemas.contains_key(&name) {
                continue;
            }
            if let Some(m) = pool.get_message_by_name(&name) {
                self.schemas.insert(name.clone(), json!({}));
                let schema = self.message_schema(&m, &[]);
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
            json!({
                "name": f.json_name(),
                "in": "query",
                "required": false,
                "schema": schemas_gen.field_schema(&f),
            })
        })
        .collect()
}

/// One operation: id, tag, parameters, body, responses and security.
fn operation(schemas_gen: &mut Gen, route: &Route) -> Map<String, Value> {
    let input = route.method.input();
    let vars = route.template.variables();
    let mut params: Vec<Value> = vars
        .iter()
        .map(|v| json!({"name": v, "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[^/:]+$"}}))
        .collect();
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.method.full_name()));
    op.insert(
        "tags".into(),
        json!([route.method.parent_service().full_name()]),
    );
    match &route.body {
        BodyRule::All => {
            let schema = schemas_gen.message_schema(&input, &vars);
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": schema}}}),
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
            "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
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
    let mut schemas_gen = Gen {
        schemas: BTreeMap::new(),
        pending: BTreeSet::new(),
    };
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for route in routes {
        let op = operation(&mut schemas_gen, route);
        paths
            .entry(route.template.openapi_path())
            .or_default()
            .insert(route.http_method.as_str().to_lowercase(), Value::Object(op));
    }
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
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}}
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "MOING API",
            "version": "v1",
            "description": "REST/JSON transcoding of the MOING gRPC API (google.api.http). Errors are {code, status, message, details} with google.rpc.ErrorInfo and BadRequest details."
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
        }
    })
}
