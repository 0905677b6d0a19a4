use moing_proto::moing::mission::v1::{
    CreateUploadRequest, DeleteProofRequest, GetDownloadUrlsRequest, SubmitProofRequest,
    submit_proof_request::Body,
};
use tonic::Code;

use crate::helpers::*;

fn http() -> reqwest::Client {
    moing_common::http::client(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_secs(10),
    )
    .expect("client")
}

#[tokio::test]
async fn photo_proofs_go_through_presigned_uploads() {
    let app = spawn_app().await;
    let leader = app.member();
    let member = app.member();
    let team = app.team(&leader, &[&member]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 2))
        .await
        .expect("photo mission");
    let upload = |who: &Member, ct: &str, len: i64| {
        let req = CreateUploadRequest {
            purpose: 1,
            team_id: team.clone(),
            mission_id: m.id.clone(),
            content_type: ct.into(),
            content_length: len,
        };
        let mut c = app.missions.clone();
        let req = as_member(who, req);
        async move { c.create_upload(req).await.map(|r| r.into_inner()) }
    };
    assert_error(
        upload(&member, "image/jpeg", 11 * 1024 * 1024).await,
        Code::InvalidArgument,
        "UPLOAD_TOO_LARGE",
    );
    assert_error(
        upload(&member, "image/gif", 100).await,
        Code::InvalidArgument,
        "UPLOAD_TYPE_NOT_ALLOWED",
    );

    // A JPEG's signature (FF D8 FF) and filler.
    let mut photo = vec![0xFFu8; 1000];
    photo[1] = 0xD8;
    let granted = upload(&member, "image/jpeg", photo.len() as i64)
        .await
        .expect("presigned put");
    assert!(
        granted
            .object_key
            .starts_with(&format!("teams/{team}/missions/{}/", m.id))
    );
    let put = |ct: &str, body: Vec<u8>| {
        let mut req = http().put(&granted.upload_url).body(body);
        for (k, v) in &granted.required_headers {
            if !k.eq_ignore_ascii_case("content-type") && !k.eq_ignore_ascii_case("content-length")
            {
                req = req.header(k, v);
            }
        }
        req.header("content-type", ct).send()
    };
    // The signature covers type and length: anything else is refused by storage.
    assert_eq!(
        put("image/png", photo.clone())
            .await
            .expect("put")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        put("image/jpeg", vec![0u8; 2000])
            .await
            .expect("put")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        put("image/jpeg", photo.clone())
            .await
            .expect("put")
            .status()
            .as_u16(),
        200
    );

    // Someone else cannot submit this member's key; a made-up key does not exist.
    let submit = |who: &Member, key: &str| {
        let req = SubmitProofRequest {
            team_id: team.clone(),
            mission_id: m.id.clone(),
            body: Some(Body::PhotoKey(key.into())),
            caption: String::new(),
        };
        let mut c = app.missions.clone();
        let req = as_member(who, req);
        async move { c.submit_proof(req).await.map(|r| r.into_inner()) }
    };
    assert_error(
        submit(&leader, &granted.object_key).await,
        Code::PermissionDenied,
        "UPLOAD_SCOPE_MISMATCH",
    );
    let missing = granted.object_key.replace(".jpg", "-nope.jpg");
    assert_error(
        submit(&member, &missing).await,
        Code::FailedPrecondition,
        "UPLOAD_NOT_FOUND",
    );
    let proof = submit(&member, &granted.object_key)
        .await
        .expect("photo proof")
        .proof
        .expect("p");

    // Teammates read it through a short-lived URL; outsiders get nothing.
    let urls = app
        .missions
        .clone()
        .get_download_urls(as_member(
            &leader,
            GetDownloadUrlsRequest {
                keys: vec![granted.object_key.clone()],
            },
        ))
        .await
        .expect("urls")
        .into_inner();
    assert_eq!(urls.urls.len(), 1);
    let body = http()
        .get(&urls.urls[0].url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(body.len(), 1000);
    let outsider = app.member();
    let denied = app
        .missions
        .clone()
        .get_download_urls(as_member(
            &outsider,
            GetDownloadUrlsRequest {
                keys: vec![granted.object_key.clone()],
            },
        ))
        .await
        .expect("urls")
        .into_inner();
    assert!(denied.urls.is_empty());
    assert_eq!(denied.denied_keys, vec![granted.object_key.clone()]);
    assert_eq!(
        http()
            .get(format!(
                "{}/moing-media/{}",
                app.s3.endpoint(),
                granted.object_key
            ))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        403,
        "the bucket is private"
    );

    // Deleting the proof deletes the object.
    app.missions
        .clone()
        .delete_proof(as_member(
            &member,
            DeleteProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id,
            },
        ))
        .await
        .expect("delete");
    assert!(
        !app.s3
            .root()
            .join("moing-media")
            .join(&granted.object_key)
            .exists()
    );
}

/// Grants an upload for `who` on `mission` and PUTs `body` with `ct`; returns the key.
async fn uploaded(
    app: &TestApp,
    who: &Member,
    team: &str,
    mission: &str,
    ct: &str,
    body: Vec<u8>,
) -> String {
    let granted = app
        .missions
        .clone()
        .create_upload(as_member(
            who,
            CreateUploadRequest {
                purpose: 1,
                team_id: team.into(),
                mission_id: mission.into(),
                content_type: ct.into(),
                content_length: body.len() as i64,
            },
        ))
        .await
        .expect("presigned put")
        .into_inner();
    let mut req = http().put(&granted.upload_url).body(body);
    for (k, v) in &granted.required_headers {
        if !k.eq_ignore_ascii_case("content-type") && !k.eq_ignore_ascii_case("content-length") {
            req = req.header(k, v);
        }
    }
    let status = req
        .header("content-type", ct)
        .send()
        .await
        .expect("put")
        .status();
    assert_eq!(status.as_u16(), 200);
    granted.object_key
}

fn photo_proof(team: &str, mission: &str, key: &str) -> SubmitProofRequest {
    SubmitProofRequest {
        team_id: team.into(),
        mission_id: mission.into(),
        body: Some(Body::PhotoKey(key.into())),
        caption: String::new(),
    }
}

#[tokio::test]
async fn a_text_file_declared_as_jpeg_is_not_an_image() {
    let app = spawn_app().await;
    let leader = app.member();
    let member = app.member();
    let team = app.team(&leader, &[&member]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 2))
        .await
        .expect("photo mission");
    let text = b"this is not a photo, just some text\n".repeat(10);
    let key = uploaded(&app, &member, &team, &m.id, "image/jpeg", text).await;
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&member, photo_proof(&team, &m.id, &key)))
            .await,
        Code::InvalidArgument,
        "UPLOAD_NOT_AN_IMAGE",
    );
    // A real PNG signature passes, whatever image type was declared.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(500, 0);
    let key = uploaded(&app, &member, &team, &m.id, "image/jpeg", png).await;
    app.missions
        .clone()
        .submit_proof(as_member(&member, photo_proof(&team, &m.id, &key)))
        .await
        .expect("an image");
}

#[tokio::test]
async fn an_upload_backs_at_most_one_proof() {
    let app = spawn_app().await;
    let leader = app.member();
    let member = app.member();
    let team = app.team(&leader, &[&member]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 2))
        .await
        .expect("photo mission");
    let mut jpeg = vec![0xFFu8, 0xD8, 0xFF, 0xE0];
    jpeg.resize(800, 7);
    let key = uploaded(&app, &member, &team, &m.id, "image/jpeg", jpeg).await;
    let first = app
        .missions
        .clone()
        .submit_proof(as_member(&member, photo_proof(&team, &m.id, &key)))
        .await
        .expect("first proof")
        .into_inner()
        .proof
        .expect("p");
    // The same key in a second proof row (as a REPEAT mission's next day, or a
    // race, would write it) is refused by the database itself.
    let dup = sqlx::query(
        "INSERT INTO proof (id, team_id, mission_id, member_id, status, way, photo_key, caption, day, week_start, week_slot, is_once, created_at) \
         SELECT ?, team_id, mission_id, member_id, status, way, photo_key, caption, DATE_ADD(day, INTERVAL 1 DAY), week_start, week_slot + 1, 0, created_at FROM proof WHERE photo_key = ?",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&key)
    .execute(&app.db.pool)
    .await;
    let err = dup.expect_err("a second proof with the same photo key");
    assert!(err.to_string().contains("uk_proof_photo"), "{err}");

    // Through the API: deleting the first proof must not strand a second one,
    // and the key is not accepted again.
    app.missions
        .clone()
        .delete_proof(as_member(
            &member,
            DeleteProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: first.id,
            },
        ))
        .await
        .expect("delete");
    assert!(
        !app.s3.root().join("moing-media").join(&key).exists(),
        "the photo went with its proof"
    );
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&member, photo_proof(&team, &m.id, &key)))
            .await,
        Code::AlreadyExists,
        "UPLOAD_ALREADY_USED",
    );
}
