//! The error-code model shared by every service.
//!
//! A failure users can see is an [`ApiError`]: a gRPC code, a stable machine
//! `reason` (sent as `google.rpc.ErrorInfo`), a human message, and for bad input
//! the field violations (sent as `google.rpc.BadRequest`). Each service keeps its
//! own error enum and maps it into `ApiError` in one exhaustive match; this module
//! only knows how to put the result on the wire.

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `ErrorInfo.domain` of every MOING error.
pub const ERROR_DOMAIN: &str = "moing.app";

/// Reasons shared by every service; service-specific reasons are string
/// constants in the service (all listed in `docs/api.md`).
pub mod reason {
    pub const VALIDATION_FAILED: &str = "VALIDATION_FAILED";
    pub const TOKEN_MISSING: &str = "TOKEN_MISSING";
    pub const TOKEN_INVALID: &str = "TOKEN_INVALID";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const SESSION_REVOKED: &str = "SESSION_REVOKED";
    pub const MEMBER_PENDING: &str = "MEMBER_PENDING";
    pub const SERVICE_CREDENTIAL_REQUIRED: &str = "SERVICE_CREDENTIAL_REQUIRED";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const DEPENDENCY_UNAVAILABLE: &str = "DEPENDENCY_UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
    pub const CONCURRENT_UPDATE: &str = "CONCURRENT_UPDATE";
}

/// One invalid request field: `field` is the proto field path (`mission.title`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// A failure ready to be sent to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub reason: &'static str,
    pub message: String,
    pub violations: Vec<FieldViolation>,
    pub metadata: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(code: Code, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            violations: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// Bad input: `INVALID_ARGUMENT` / `VALIDATION_FAILED` with field violations.
    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        let message = match violations.as_slice() {
            [one] => format!("invalid {}: {}", one.field, one.description),
            many => format!("{} fields are invalid", many.len()),
        };
        Self {
            violations,
            ..Self::new(Code::InvalidArgument, reason::VALIDATION_FAILED, message)
        }
    }

    pub fn unauthenticated(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(Code::Unauthenticated, reason, message)
    }

    /// A write that lost a lock conflict on every retry (see `db::transaction`):
    /// `ABORTED`, safe to try again; never reported as `INTERNAL`.
    pub fn lock_conflict() -> Self {
        Self::new(
            Code::Aborted,
            reason::CONCURRENT_UPDATE,
            "the data changed concurrently; try again",
        )
    }

    /// An unexpected failure, unless it is a lock conflict (then [`Self::lock_conflict`]).
    pub fn from_internal(err: &anyhow::Error) -> Self {
        use crate::db::LockConflict;
        if err.is_lock_conflict() {
            tracing::warn!(error = %format!("{err:#}"), "lock conflict after retries");
            return Self::lock_conflict();
        }
        Self::internal(format!("{err:#}"))
    }

    /// An unexpected failure: logged here once with its chain, sent as an opaque message.
    pub fn internal(err: impl fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(Code::Internal, reason::INTERNAL, "internal error")
    }

    pub fn unavailable(what: &str) -> Self {
        Self::new(
            Code::Unavailable,
            reason::DEPENDENCY_UNAVAILABLE,
            format!("{what} is unavailable, try again shortly"),
        )
    }

    /// Extra `ErrorInfo.metadata` entries, e.g. `retry_after_seconds`.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Longest message, field path or description sent back: errors may echo what
/// the client sent (a field-mask path, a value), and the answer travels in HTTP/2
/// trailers, whose size the peer limits.
const ECHO_LIMIT: usize = 256;
/// Bytes of field violations sent in one answer (the rest are dropped): with the
/// message, the trailers stay well under the 16 KiB a client accepts.
const VIOLATION_BUDGET: usize = 4 * 1024;

/// `text` cut to [`ECHO_LIMIT`] characters, marked with `…` when cut.
fn clip(text: String) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        let mut details = ErrorDetails::new();
        details.set_error_info(
            e.reason,
            ERROR_DOMAIN,
            e.metadata
                .into_iter()
                .map(|(k, v)| (k, clip(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        );
        let mut budget = VIOLATION_BUDGET;
        for v in e.violations {
            let (field, description) = (clip(v.field), clip(v.description));
            let size = field.len() + description.len();
            if size > budget {
                break;
            }
            budget -= size;
            details.add_bad_request_violation(field, description);
        }
        Status::with_error_details(e.code, clip(e.message), details)
    }
}

/// The glue every service's error enum needs, written once. The enum has
/// `Invalid(Vec<FieldViolation>)` and `Internal(anyhow::Error)` variants; the
/// second argument is the value for a database that cannot be reached:
///
/// ```ignore
/// moing_common::error_glue!(BoardError, BoardError::Unavailable("the board database"));
/// ```
///
/// It gives `From<sqlx::Error>` (pool timeouts and I/O → the unavailable value,
/// the rest internal), `From<ApiError>` (a validator's violations) and
/// [`crate::db::LockConflict`] (so `transaction!` retries a deadlock inside it).
#[macro_export]
macro_rules! error_glue {
    ($ty:ident, $unavailable:expr) => {
        impl From<sqlx::Error> for $ty {
            fn from(e: sqlx::Error) -> Self {
                match e {
                    sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                        $unavailable
                    }
                    other => $ty::Internal(other.into()),
                }
            }
        }

        impl From<$crate::ApiError> for $ty {
            fn from(e: $crate::ApiError) -> Self {
                $ty::Invalid(e.violations)
            }
        }

        impl $crate::db::LockConflict for $ty {
            fn is_lock_conflict(&self) -> bool {
                matches!(self, $ty::Internal(e) if $crate::db::LockConflict::is_lock_conflict(e))
            }
        }
    };
}

/// Reads the `ErrorInfo.reason` of a status, if it carries one.
pub fn status_reason(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// Reads the `BadRequest` field names of a status.
pub fn status_violation_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|br| br.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Collects field violations while validating a request, then fails once with all of them.
#[derive(Debug, Default)]
pub struct Validator {
    violations: Vec<FieldViolation>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn violation(&mut self, field: &str, description: impl Into<String>) {
        self.violations.push(FieldViolation {
            field: field.to_owned(),
            description: description.into(),
        });
    }

    /// Trims `value` and checks its length in characters (not bytes).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let trimmed = value.trim();
        let n = trimmed.chars().count();
        if n < min {
            if min == 1 {
                self.violation(field, "must not be empty");
            } else {
                self.violation(field, format!("must be at least {min} characters"));
            }
        } else if n > max {
            self.violation(field, format!("must be at most {max} characters"));
        }
        trimmed.to_owned()
    }

    /// Each of `values` as an id (see [`Self::id`]); a violation named
    /// `field[i]` for each one that is not.
    pub fn ids(&mut self, field: &str, values: &[String]) -> Vec<uuid::Uuid> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, value)| self.id(&format!("{field}[{i}]"), value))
            .collect()
    }

    /// Parses a UUID id field.
    pub fn id(&mut self, field: &str, value: &str) -> Option<uuid::Uuid> {
        match uuid::Uuid::parse_str(value.trim()) {
            Ok(id) => Some(id),
            Err(_) if value.trim().is_empty() => {
                self.violation(field, "is required");
                None
            }
            Err(_) => {
                self.violation(field, "must be an id returned by the API");
                None
            }
        }
    }

    /// An optional timestamp field: None when absent; a violation (and None)
    /// when set but malformed or outside the years 1970..=9999.
    pub fn timestamp(
        &mut self,
        field: &str,
        value: Option<&prost_types::Timestamp>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let t = value?;
        let at = crate::convert::from_timestamp(t);
        if at.is_none() {
            self.violation(field, crate::convert::OUT_OF_RANGE);
        }
        at
    }

    /// An optional `google.type.Date` field: None when absent; a violation
    /// (and None) when set but not a real day in the years 1970..=9999.
    pub fn date(
        &mut self,
        field: &str,
        value: Option<&moing_proto::google::r#type::Date>,
    ) -> Option<chrono::NaiveDate> {
        let d = value?;
        let day = crate::convert::from_date(d);
        if day.is_none() {
            self.violation(field, crate::convert::OUT_OF_RANGE);
        }
        day
    }

    /// `page_size`: 0 means the default; negative or above `max` is invalid.
    pub fn page_size(&mut self, field: &str, value: i32, default: u32, max: u32) -> u32 {
        match value {
            0 => default,
            v if v < 0 => {
                self.violation(field, "must not be negative");
                default
            }
            v if v as u32 > max => {
                self.violation(field, format!("must be at most {max}"));
                max
            }
            v => v as u32,
        }
    }

    /// One page of an already ordered list: `page_size` (default 20, max 100)
    /// and an opaque offset token; returns the page and the next token.
    pub fn page<T: Clone>(
        &mut self,
        items: &[T],
        page_size: i32,
        page_token: &str,
    ) -> (Vec<T>, String) {
        let size = self.page_size("page_size", page_size, 20, 100) as usize;
        let offset = if page_token.is_empty() {
            0
        } else {
            page_token.parse::<usize>().unwrap_or_else(|_| {
                self.violation("page_token", "is not a token from a previous response");
                0
            })
        };
        let chunk: Vec<T> = items.iter().skip(offset).take(size).cloned().collect();
        let next = offset + chunk.len();
        let token = if next < items.len() {
            next.to_string()
        } else {
            String::new()
        };
        (chunk, token)
    }

    pub fn check(&mut self, ok: bool, field: &str, description: &str) {
        if !ok {
            self.violation(field, description);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Ok(())` when nothing was wrong, else the `INVALID_ARGUMENT` error with every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.violations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_carries_reason_and_violations() {
        let mut v = Validator::new();
        let name = v.text("team.name", "   ", 1, 20);
        v.text("team.introduction", &"가".repeat(301), 0, 300);
        assert_eq!(name, "");
        let err = v.finish().expect_err("two violations");
        let status = Status::from(err);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status_reason(&status).as_deref(), Some("VALIDATION_FAILED"));
        assert_eq!(
            status_violation_fields(&status),
            vec!["team.name".to_owned(), "team.introduction".to_owned()]
        );
    }

    #[test]
    fn echoed_input_is_clipped_to_fit_trailers() {
        let path = "가".repeat(5_000);
        let violations = (0..100)
            .map(|_| FieldViolation {
                field: path.clone(),
                description: format!("unknown path {path}"),
            })
            .collect();
        let status = Status::from(ApiError::invalid(violations));
        assert!(status.message().chars().count() <= ECHO_LIMIT + 1);
        let fields = status_violation_fields(&status);
        assert!(!fields.is_empty() && fields.len() < 100, "{}", fields.len());
        assert!(fields.iter().all(|f| f.chars().count() == ECHO_LIMIT + 1));
        assert!(
            status.details().len() < 6 * 1024,
            "{}",
            status.details().len()
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut v = Validator::new();
        v.text("nickname", "모잉모잉모잉모잉모잉", 1, 10);
        assert!(v.is_empty());
        v.text("nickname", "모잉모잉모잉모잉모잉x", 1, 10);
        assert!(!v.is_empty());
    }

    #[test]
    fn pages_walk_a_list() {
        let items: Vec<i32> = (0..5).collect();
        let mut v = Validator::new();
        let (first, token) = v.page(&items, 2, "");
        assert_eq!((first, token.as_str()), (vec![0, 1], "2"));
        let (last, token) = v.page(&items, 2, "4");
        assert_eq!((last, token.as_str()), (vec![4], ""));
        assert!(v.is_empty());
        v.page(&items, 2, "nope");
        assert!(!v.is_empty());
    }

    #[test]
    fn page_size_defaults_and_bounds() {
        let mut v = Validator::new();
        assert_eq!(v.page_size("page_size", 0, 20, 100), 20);
        assert_eq!(v.page_size("page_size", 50, 20, 100), 50);
        assert!(v.is_empty());
        v.page_size("page_size", 101, 20, 100);
        v.page_size("page_size", -1, 20, 100);
        assert_eq!(v.finish().expect_err("bad").violations.len(), 2);
    }
}
