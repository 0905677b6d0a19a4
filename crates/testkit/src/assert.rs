use moing_common::error::{status_reason, status_violation_fields};
use tonic::{Code, Status};

/// Asserts a failed call's code and `ErrorInfo.reason`; returns the status.
pub fn assert_status<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = result.expect_err("call should fail");
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(
        status_reason(&status).as_deref(),
        Some(reason),
        "{status:?}"
    );
    status
}

/// Asserts INVALID_ARGUMENT / VALIDATION_FAILED naming every one of `fields`.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, fields: &[&str]) -> Status {
    let status = assert_status(result, Code::InvalidArgument, "VALIDATION_FAILED");
    let got = status_violation_fields(&status);
    for field in fields {
        assert!(got.iter().any(|g| g == field), "{field} not in {got:?}");
    }
    status
}
