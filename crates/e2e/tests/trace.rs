//! One REST request (a member submits a proof) followed across the cluster by
//! its spans, exported over OTLP/gRPC to a collector in this test: gateway →
//! mission → moim, and through mission's outbox to notification's consumer,
//! all in the trace the client started, each span the child of the one that
//! caused it.

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use moing_common::config::LogSettings;
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value as AnyValue,
    trace::v1::{Span, span::SpanKind},
};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// The in-process OTLP receiver: keeps every exported span.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Collector {
    fn trace(&self, trace_id: &[u8]) -> Vec<Span> {
        let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The one span named `name` of `kind`.
fn one<'a>(spans: &'a [Span], name: &str, kind: SpanKind) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == name && s.kind == kind as i32)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind:?} span {name}: {:#?}",
        names(spans)
    );
    found[0]
}

fn names(spans: &[Span]) -> Vec<String> {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} {} <- {} ({})",
                hex(&s.span_id),
                s.name,
                hex(&s.parent_span_id),
                s.kind
            )
        })
        .collect()
}

/// True when `ancestor` is on `span`'s parent chain.
fn descends(by_id: &HashMap<Vec<u8>, &Span>, span: &Span, ancestor: &Span) -> bool {
    let mut parent = span.parent_span_id.clone();
    while let Some(p) = by_id.get(&parent) {
        if p.span_id == ancestor.span_id {
            return true;
        }
        parent = p.parent_span_id.clone();
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proof_is_one_trace_from_the_edge_to_the_notification() {
    let collector = Collector::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let otlp = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    moing_common::telemetry::try_init(
        "moing-e2e",
        &LogSettings {
            filter: "warn".into(),
            otlp_endpoint: otlp,
            ..Default::default()
        },
    )
    .expect("telemetry");

    let stack = support::Stack::start().await;
    let leader = stack.member("리더").await;
    let joiner = stack.member("인증러").await;
    let team = stack.team_with(&leader, &joiner).await;
    let mission = stack.mission(&leader, &team).await;

    // The client starts the trace; the joiner's first call to mission makes it
    // ask moim about the membership.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let client_span = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let (status, proof) = stack
        .call(
            "POST",
            &format!("/v1/teams/{team}/missions/{mission}/proofs"),
            Some(&joiner),
            &[("traceparent", traceparent.as_str())],
            Some(json!({"text": "30쪽 읽음"})),
        )
        .await;
    assert_eq!(status, 200, "{proof}");

    // The event reaches notification asynchronously; export until its span is in.
    let trace_bytes = unhex(&trace_id);
    let mut spans = Vec::new();
    for _ in 0..100 {
        moing_common::telemetry::flush().await;
        spans = collector.trace(&trace_bytes);
        if spans.iter().any(|s| s.name == "event.consume") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let by_id: HashMap<Vec<u8>, &Span> = spans.iter().map(|s| (s.span_id.clone(), s)).collect();

    // gateway: its server span continues the client's, its client span is the call to mission.
    let edge = one(&spans, "POST http", SpanKind::Server);
    assert_eq!(hex(&edge.parent_span_id), client_span);
    assert_eq!(
        attr(edge, "rpc.method"),
        Some("moing.mission.v1.MissionService.SubmitProof")
    );
    let submit = "moing.mission.v1.MissionService/SubmitProof";
    let to_mission = one(&spans, submit, SpanKind::Client);
    assert_eq!(to_mission.parent_span_id, edge.span_id);

    // mission serves it as the child of the gateway's call, with the caller recorded.
    let in_mission = one(&spans, submit, SpanKind::Server);
    assert_eq!(in_mission.parent_span_id, to_mission.span_id);
    assert_eq!(
        attr(in_mission, "rpc.service"),
        Some("moing.mission.v1.MissionService")
    );
    assert!(
        attr(in_mission, "member_id").is_some(),
        "member id recorded"
    );
    assert!(attr(in_mission, "team_id").is_some(), "team id recorded");

    // mission → moim: the membership check is served under mission's span.
    let check = "moing.moim.v1.TeamInternalService/CheckMembership";
    let in_moim = one(&spans, check, SpanKind::Server);
    let to_moim = by_id
        .get(&in_moim.parent_span_id)
        .expect("moim's parent span exported");
    assert_eq!(to_moim.name, check);
    assert_eq!(to_moim.kind, SpanKind::Client as i32);
    assert!(descends(&by_id, in_moim, in_mission));

    // mission's outbox → notification: the event's span is a child of the
    // request that enqueued it, and links to the relay's delivery (its own trace).
    let consumed: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "event.consume" && attr(s, "event.producer") == Some("mission"))
        .collect();
    assert!(!consumed.is_empty(), "{:#?}", names(&spans));
    for event in consumed {
        assert_eq!(event.kind, SpanKind::Consumer as i32);
        assert!(descends(&by_id, event, in_mission), "{:#?}", names(&spans));
        assert!(
            event.links.iter().any(|l| l.trace_id != trace_bytes),
            "links to the relay's delivery"
        );
    }

    // Every span above is in the client's trace (they were selected by it) and
    // every parent inside the trace was exported too.
    for span in &spans {
        if span.span_id != edge.span_id && !span.parent_span_id.is_empty() {
            assert!(
                by_id.contains_key(&span.parent_span_id),
                "parent of {} missing: {:#?}",
                span.name,
                names(&spans)
            );
        }
    }
    stack.cluster.stop().await.expect("clean stop");
}
