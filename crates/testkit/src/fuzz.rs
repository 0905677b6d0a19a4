//! Property test of a service's whole request surface: every method of the
//! named gRPC services gets messages generated from the descriptor set
//! (proptest strategies per field kind: extreme numbers, out-of-set enum values,
//! timestamps far outside 1970–9999, junk page tokens, real ids of the caller's
//! data mixed with made-up ones), and every answer must be a deliberate one —
//! never INTERNAL, UNKNOWN, DATA_LOSS, a dropped connection (a panic) or an
//! undecodable response.
//!
//! ```ignore
//! let target = Target::new(channel, "moing.x.v1.XService", headers);
//! let report = moing_testkit::fuzz::run(&[target], &known, 48).await;
//! ```

use std::{str::FromStr, sync::Arc, time::Duration};

use bytes::Bytes;
use http::uri::PathAndQuery;
use moing_common::codec::RawCodec;
use proptest::{
    prelude::*,
    strategy::BoxedStrategy,
    test_runner::{Config, TestCaseError, TestRunner},
};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
    Value,
};
use tonic::{Code, Request, client::Grpc, metadata::MetadataValue, transport::Channel};

/// One service to fuzz and the metadata every call carries (its credential).
#[derive(Debug, Clone)]
pub struct Target {
    pub channel: Channel,
    pub service: String,
    pub headers: Vec<(&'static str, String)>,
    /// Methods left out, with the reason in the caller's comment.
    pub skip: Vec<&'static str>,
    /// When not empty, the only methods called.
    pub only: Vec<&'static str>,
}

impl Target {
    pub fn new(channel: Channel, service: &str, headers: Vec<(&'static str, String)>) -> Self {
        Self {
            channel,
            service: service.into(),
            headers,
            skip: Vec::new(),
            only: Vec::new(),
        }
    }

    /// Calls these methods only (e.g. the ones that end the caller's session, last).
    pub fn only(mut self, methods: &[&'static str]) -> Self {
        self.only.extend_from_slice(methods);
        self
    }

    pub fn skip(mut self, method: &'static str) -> Self {
        self.skip.push(method);
        self
    }
}

/// What one run did: calls per method and the codes seen.
#[derive(Debug, Default)]
pub struct Report {
    pub calls: usize,
    pub methods: usize,
    pub codes: std::collections::BTreeMap<String, usize>,
}

/// Cases per method: `MOING_FUZZ_CASES`, 48 unless set.
pub fn cases() -> u32 {
    std::env::var("MOING_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Codes that mean the service lost control of a request.
const UNDELIBERATE: [Code; 4] = [
    Code::Internal,
    Code::Unknown,
    Code::DataLoss,
    Code::Unimplemented,
];

/// Runs `cases` generated requests against every method of every target and
/// panics with the method, the message and the status on the first answer that
/// is not deliberate. `known` are real values (ids, codes) of the caller's data
/// so that generated requests reach past the NOT_FOUND checks.
pub async fn run(targets: &[Target], known: &[String], cases: u32) -> Report {
    let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let known = Arc::new(known.to_vec());
    let handle = tokio::runtime::Handle::current();
    let mut report = Report::default();
    for target in targets {
        let service = pool
            .get_service_by_name(&target.service)
            .unwrap_or_else(|| panic!("no service {} in the descriptor set", target.service));
        for method in service.methods() {
            if target.skip.contains(&method.name())
                || (!target.only.is_empty() && !target.only.contains(&method.name()))
            {
                continue;
            }
            let (channel, target, known, handle) = (
                target.channel.clone(),
                target.clone(),
                known.clone(),
                handle.clone(),
            );
            let codes = tokio::task::spawn_blocking(move || {
                fuzz_method(&handle, channel, &target, &method, known, cases)
            })
            .await
            .expect("fuzz task");
            report.methods += 1;
            for (code, n) in codes {
                report.calls += n;
                *report.codes.entry(code).or_default() += n;
            }
        }
    }
    report
}

fn fuzz_method(
    handle: &tokio::runtime::Handle,
    channel: Channel,
    target: &Target,
    method: &MethodDescriptor,
    known: Arc<Vec<String>>,
    cases: u32,
) -> Vec<(String, usize)> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    let result = runner.run(&message(&method.input(), 0, &known), |msg| {
        let code = handle.block_on(call(&channel, target, method, &path, &msg));
        let name = format!("{:?}", code.as_ref().map_or(Code::Unknown, |c| *c));
        if let Ok(mut seen) = seen.lock() {
            *seen.entry(name).or_default() += 1;
        }
        code.map(|_| ()).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{path}: {e}");
    }
    seen.into_inner().unwrap_or_default().into_iter().collect()
}

/// One call; `Err` describes an undeliberate answer.
async fn call(
    channel: &Channel,
    target: &Target,
    method: &MethodDescriptor,
    path: &str,
    msg: &DynamicMessage,
) -> Result<Code, String> {
    let mut grpc = Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| format!("channel not ready: {e}"))?;
    let mut req = Request::new(Bytes::from(msg.encode_to_vec()));
    req.set_timeout(Duration::from_secs(10));
    for (name, value) in &target.headers {
        if let Ok(v) = MetadataValue::from_str(value) {
            req.metadata_mut().insert(*name, v);
        }
    }
    let path = PathAndQuery::from_str(path).map_err(|e| e.to_string())?;
    let answer = if method.is_server_streaming() {
        match grpc.server_streaming(req, path, RawCodec).await {
            Ok(resp) => {
                let mut stream = resp.into_inner();
                match tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
                    Ok(Ok(Some(bytes))) => Ok(bytes),
                    Ok(Ok(None)) | Err(_) => Ok(Bytes::new()),
                    Ok(Err(status)) => Err(status),
                }
            }
            Err(status) => Err(status),
        }
    } else {
        grpc.unary(req, path, RawCodec)
            .await
            .map(tonic::Response::into_inner)
    };
    match answer {
        Ok(bytes) => DynamicMessage::decode(method.output(), bytes)
            .map(|_| Code::Ok)
            .map_err(|e| format!("undecodable {}: {e}", method.output().full_name())),
        Err(status) if UNDELIBERATE.contains(&status.code()) => Err(format!(
            "{:?} {:?} for {}",
            status.code(),
            status.message(),
            shown(msg)
        )),
        Err(status) => Ok(status.code()),
    }
}

/// The message as proto3 JSON, long strings cut, for a failure report.
fn shown(msg: &DynamicMessage) -> String {
    let json = serde_json::to_value(msg).unwrap_or_default();
    let mut text = json.to_string();
    if text.len() > 2_000 {
        let cut = (0..=2_000)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A message with each field present or absent, nested messages to depth 3.
fn message(
    desc: &MessageDescriptor,
    depth: u32,
    known: &Arc<Vec<String>>,
) -> BoxedStrategy<DynamicMessage> {
    let fields: Vec<FieldDescriptor> = desc
        .fields()
        .filter(|f| !f.is_map() && (depth < 3 || !matches!(f.kind(), Kind::Message(_))))
        .collect();
    let strategies: Vec<BoxedStrategy<Option<Value>>> = fields
        .iter()
        .map(|f| proptest::option::weighted(0.7, field(f, depth, known)).boxed())
        .collect();
    let desc = desc.clone();
    strategies
        .prop_map(move |values| {
            let mut msg = DynamicMessage::new(desc.clone());
            for (f, v) in fields.iter().zip(values) {
                if let Some(v) = v {
                    msg.set_field(f, v);
                }
            }
            msg
        })
        .boxed()
}

fn field(f: &FieldDescriptor, depth: u32, known: &Arc<Vec<String>>) -> BoxedStrategy<Value> {
    let single = scalar(f, depth, known);
    if f.is_list() {
        proptest::collection::vec(single, 0..4)
            .prop_map(Value::List)
            .boxed()
    } else {
        single
    }
}

fn scalar(f: &FieldDescriptor, depth: u32, known: &Arc<Vec<String>>) -> BoxedStrategy<Value> {
    match f.kind() {
        Kind::String => text(known).prop_map(Value::String).boxed(),
        Kind::Bytes => proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Value::Bytes(Bytes::from(b)))
            .boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => int32().prop_map(Value::I32).boxed(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => int64().prop_map(Value::I64).boxed(),
        Kind::Uint32 | Kind::Fixed32 => {
            prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>(), 0u32..100]
                .prop_map(Value::U32)
                .boxed()
        }
        Kind::Uint64 | Kind::Fixed64 => {
            prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 0u64..100]
                .prop_map(Value::U64)
                .boxed()
        }
        Kind::Double => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            any::<f64>(),
            -10.0..10.0
        ]
        .prop_map(Value::F64)
        .boxed(),
        Kind::Float => prop_oneof![Just(f32::NAN), Just(f32::NEG_INFINITY), any::<f32>()]
            .prop_map(Value::F32)
            .boxed(),
        Kind::Enum(e) => {
            let numbers: Vec<i32> = e.values().map(|v| v.number()).collect();
            prop_oneof![
                3 => proptest::sample::select(numbers),
                1 => int32(),
            ]
            .prop_map(Value::EnumNumber)
            .boxed()
        }
        Kind::Message(m) if m.full_name() == "google.protobuf.Timestamp" => timestamp(&m),
        Kind::Message(m) => message(&m, depth + 1, known)
            .prop_map(Value::Message)
            .boxed(),
    }
}

/// Known values, made-up ids, empty, long, control characters and any text.
fn text(known: &Arc<Vec<String>>) -> BoxedStrategy<String> {
    let junk = prop_oneof![
        Just(String::new()),
        Just("00000000-0000-0000-0000-000000000000".to_string()),
        Just("0196f5a0-7a3b-7c2d-8e4f-123456789abc".to_string()),
        Just("x".repeat(5000)),
        Just("'; DROP TABLE teams; --".to_string()),
        Just("\u{0}\u{1b}[31m\u{202e}".to_string()),
        "\\PC{0,40}",
        any::<String>(),
    ];
    if known.is_empty() {
        return junk.boxed();
    }
    let known = known.as_ref().clone();
    prop_oneof![1 => junk, 1 => proptest::sample::select(known)].boxed()
}

fn int32() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(-1),
        Just(i32::MIN),
        Just(i32::MAX),
        -5i32..40,
        any::<i32>()
    ]
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i64::MIN),
        Just(i64::MAX),
        -5i64..100,
        any::<i64>()
    ]
}

/// Instants around now and far outside the range the API accepts.
fn timestamp(desc: &MessageDescriptor) -> BoxedStrategy<Value> {
    let now = moing_common::clock::now().timestamp();
    let seconds = prop_oneof![
        Just(now),
        (now - 40 * 86_400)..(now + 400 * 86_400),
        Just(0i64),
        Just(-1),
        Just(-62_135_596_800), // 0001-01-01
        Just(253_402_300_799), // 9999-12-31T23:59:59Z
        Just(253_402_300_800), // 10000-01-01
        Just(i64::MIN),
        Just(i64::MAX),
        any::<i64>(),
    ];
    let nanos = prop_oneof![
        Just(0i32),
        Just(999_999_999),
        Just(1_000_000_000),
        Just(-1),
        any::<i32>()
    ];
    let desc = desc.clone();
    (seconds, nanos)
        .prop_map(move |(s, n)| {
            let mut msg = DynamicMessage::new(desc.clone());
            msg.set_field_by_name("seconds", Value::I64(s));
            msg.set_field_by_name("nanos", Value::I32(n));
            Value::Message(msg)
        })
        .boxed()
}
