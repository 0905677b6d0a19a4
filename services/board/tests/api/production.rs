//! The real `board` binary started with `MOING_ENV=production`: on a
//! development secret it exits non-zero within a second, naming the variable
//! to set, before it binds a port or reaches a database.

use std::{
    io::Read,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// Runs the board binary with exactly `env`; returns (success, stderr, elapsed).
fn run_board(env: &[(&str, &str)]) -> (bool, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_board"))
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn board");
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    // stderr closes when the process exits.
    let Ok(text) = rx.recv_timeout(Duration::from_secs(1)) else {
        let _ = child.kill();
        panic!("board still running after 1 s with {env:?}");
    };
    let status = child.wait().expect("wait");
    (status.success(), text, started.elapsed())
}

const REAL_DB: &str = "mysql://moing_board:Jx81-not-a-dev-password@127.0.0.1:9/moing_board";

#[test]
fn production_refuses_the_development_ballot_secret_within_a_second() {
    let (ok, stderr, took) = run_board(&[
        ("MOING_ENV", "production"),
        ("MOING_AUTH__SERVICE_TOKEN", "Zt9w4kQp0c-real-token"),
        ("MOING_AUTH__SESSIONS_REDIS_URL", "redis://redis:6379"),
        ("MOING_DATABASE__URL", REAL_DB),
        ("MOING_GRPC__LISTEN", "127.0.0.1:0"),
    ]);
    assert!(!ok, "exit status must be non-zero; stderr: {stderr}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(
        stderr.contains(
            "refusing to start in production: board.ballot_secret still has its development value (set MOING_BOARD__BALLOT_SECRET"
        ),
        "{stderr}"
    );
    // The variables given were read: nothing else is named.
    assert!(!stderr.contains("MOING_AUTH__SERVICE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("MOING_DATABASE__URL"), "{stderr}");

    // With the ballot secret set through that variable, the next development
    // value is named instead: the service token, and the database password.
    let (ok, stderr, took) = run_board(&[
        ("MOING_ENV", "production"),
        (
            "MOING_BOARD__BALLOT_SECRET",
            "3q2+7wAAAAB6nFhBfP1sQ0kz9u2yZtGv",
        ),
        ("MOING_GRPC__LISTEN", "127.0.0.1:0"),
    ]);
    assert!(!ok && took < Duration::from_secs(1), "{took:?} {stderr}");
    assert!(!stderr.contains("ballot"), "{stderr}");
    assert!(
        stderr.contains(
            "auth.service_token still has its development value (set MOING_AUTH__SERVICE_TOKEN)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("database.url still has a development password (set MOING_DATABASE__URL)"),
        "{stderr}"
    );
}
