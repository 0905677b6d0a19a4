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

    let photo = vec![0xFFu8; 1000];
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
