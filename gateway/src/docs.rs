//! `/docs`: Swagger UI over `/openapi.json`, served offline from the gateway.
//! Its assets are vendored into the binary at build time (`build.rs`); the page
//! names the services as tags, filters by them, has "Try it out" and a bearer
//! token field, and, where development sign-in is on, says how to get a token.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

const BUNDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui-bundle.js"));
const STYLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/swagger-ui/swagger-ui.css"));
const PAGE: &str = include_str!("docs/index.html");
const DEV_TOKEN: &str = include_str!("docs/dev-token.html");
const INIT: &str = include_str!("docs/init.js");
const OURS: &str = include_str!("docs/moing.css");

/// The page, with the development-token note when `dev_note` is set.
pub fn page(dev_note: bool) -> String {
    PAGE.replace("<!--DEV_TOKEN-->", if dev_note { DEV_TOKEN } else { "" })
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}

/// The routes of the docs page and its assets.
pub fn routes<S: Clone + Send + Sync + 'static>(dev_note: bool) -> Router<S> {
    let html = page(dev_note);
    Router::new()
        .route("/docs", get(move || async move { Html(html) }))
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", BUNDLE) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/docs/init.js",
            get(|| async { asset("text/javascript; charset=utf-8", INIT.as_bytes()) }),
        )
        .route(
            "/docs/moing.css",
            get(|| async { asset("text/css; charset=utf-8", OURS.as_bytes()) }),
        )
}
