//! The forum looking like one: category descriptions and colours set by moderators and shown in the lists, the
//! not-found and refusal pages in the layout with the viewer's log-in state, members named by name in the panel,
//! and the panel's long lists a page at a time, both ways.

use axum::http::StatusCode;

use crate::web_world::world;

/// The `href` of the link with this class on a page.
fn link(page: &str, class: &str) -> Option<String> {
    let at = page.find(&format!("class=\"{class}\""))?;
    let rest = &page[at..];
    let start = rest.find("href=\"")? + 6;
    Some(rest[start..start + rest[start..].find('"')?].replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_paged_both_ways_and_names_members() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let plain = w.plain;
    w.state
        .forum
        .run(move |forum| {
            for i in 0..120 {
                cadre::program::audit(
                    forum.conn(),
                    i,
                    "system",
                    "test-row",
                    Some(plain),
                    "s",
                    &format!("row {i}"),
                    None,
                )
                .unwrap();
            }
        })
        .await
        .unwrap();
    let (status, _, first) = w.get(&moderator, "/mod/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains(">plain</a>"), "members by name: {first}");
    assert!(!first.contains(">#"), "no bare ids: {first}");
    assert!(link(&first, "newer").is_none());
    let older = link(&first, "older").expect("an older page");
    let (_, _, second) = w.get(&moderator, &older).await;
    assert!(second.contains("row 69") && !second.contains("row 70<"), "the next 50 rows");
    let newer = link(&second, "newer").expect("a newer page");
    let (_, _, back) = w.get(&moderator, &newer).await;
    assert_eq!(back, first, "newer from page 2 is page 1 again");
    // One member's log, paged the same way.
    let (status, _, mine) = w.get(&moderator, "/mod/audit?member=plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.contains("of <a") && link(&mine, "older").unwrap().contains("member="), "{mine}");
    // The member page pages the ledger and links to the whole audit log.
    let (status, _, page) = w.get(&moderator, "/mod/members/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("audit log →"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_description_and_colour_set_by_a_moderator_show_in_the_lists() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let fields = "description=Questions+about+running+Cadre&colour=teal";
    let (status, location, _) = w.post_form(&moderator, "/mod/categories/general", fields, true).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/mod/categories"));
    let anonymous = w.visitor(None).await;
    for path in ["/", "/c/general", "/latest"] {
        let (_, _, page) = w.get(&anonymous, path).await;
        assert!(page.contains("cat-teal"), "{path}: {page}");
    }
    let (_, _, index) = w.get(&anonymous, "/").await;
    assert!(index.contains("Questions about running Cadre"), "{index}");
    let (_, _, api) = w.get(&anonymous, "/api/categories").await;
    assert!(api.contains(r#""colour":"teal""#) && api.contains("Questions about running Cadre"), "{api}");
    // A colour outside the palette is refused, on the styled page with the moderator's header.
    let (status, _, page) =
        w.post_form(&moderator, "/mod/categories/general", "description=x&colour=%23ff0000", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("the colour is one of") && page.contains("id=\"logout\""), "{page}");
    // Members cannot: the route does not exist for them.
    let plain = w.visitor(Some(w.plain)).await;
    assert_eq!(w.post_form(&plain, "/mod/categories/general", fields, true).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_not_found_page_has_the_forums_header_with_the_viewers_log_in_state() {
    let w = world(true);
    let anonymous = w.visitor(None).await;
    let (status, _, page) = w.get(&anonymous, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("Page not found") && page.contains("id=\"login-link\"") && page.contains("Cadre forum"),
        "{page}"
    );
    let plain = w.visitor(Some(w.plain)).await;
    let (status, _, page) = w.get(&plain, "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found") && page.contains("id=\"me\"") && page.contains(">plain<"), "{page}");
    // A private topic and a missing one: the same page, byte for byte, for the same viewer.
    let private = w.get(&plain, &format!("/t/{}", w.id(w.private.topic))).await;
    let missing = w.get(&plain, &format!("/t/{}", w.id(999_999))).await;
    assert_eq!(private, missing);
    assert_eq!(private.2, page);
}

/// A tier can hold hundreds of thousands of members: the panel's access list (HTML and JSON) is a page at a time,
/// newest grants first, with links both ways.
#[tokio::test(flavor = "multi_thread")]
async fn the_tier_access_list_is_paged_newest_first_on_the_panel_and_the_api() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    w.state
        .forum
        .run(|forum| {
            for i in 0..120 {
                let id = forum.register(&format!("holder{i}"), 0, false).unwrap();
                forum
                    .conn()
                    .execute(
                        "INSERT INTO access (member_id, tier, source, granted_at, reason) \
                         VALUES (?1, 'insiders', 'earned', ?2, 'paging test')",
                        rusqlite::params![id as i64, i as i64],
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
    let holders = |page: &str| -> Vec<u32> {
        page.split(">holder").skip(1).filter_map(|rest| rest.split('<').next()?.parse().ok()).collect()
    };
    let (status, _, first) = w.get(&moderator, "/mod/members").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(holders(&first), (70..120).rev().collect::<Vec<_>>(), "the 50 newest grants first");
    assert!(link(&first, "newer").is_none());
    let (_, _, second) = w.get(&moderator, &link(&first, "older").expect("an older page")).await;
    assert_eq!(holders(&second), (20..70).rev().collect::<Vec<_>>());
    let (_, _, third) = w.get(&moderator, &link(&second, "older").expect("the oldest page")).await;
    assert_eq!(holders(&third).first(), Some(&19), "then the rest, and the world's own insider");
    assert!(link(&third, "older").is_none(), "the oldest page has no older link");
    let (_, _, back) = w.get(&moderator, &link(&second, "newer").expect("a newer page")).await;
    assert_eq!(back, first, "newer from page 2 is page 1 again");

    let (status, _, api) = w.get(&moderator, "/api/mod/members").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(json["access"].as_array().unwrap().len(), 50, "{api}");
    assert_eq!(json["access"][0]["name"], "holder119");
    let older = json["older"].as_i64().expect("an older page's id");
    let (_, _, api) = w.get(&moderator, &format!("/api/mod/members?before={older}")).await;
    let json: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(json["access"][0]["name"], "holder69", "{api}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_queue_is_paged_oldest_first_on_the_panel_and_the_api() {
    // A large community can have thousands waiting for review; the page shows twenty, the oldest first.
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    w.state
        .forum
        .run(|forum| {
            for i in 0..50 {
                let id = forum.register(&format!("nominee{i}"), 0, false).unwrap();
                // Every tenth was decided already: in no page.
                let status = if i % 10 == 9 { "rejected" } else { "pending" };
                forum
                    .conn()
                    .execute(
                        "INSERT INTO nominations (member_id, tier, evidence, status, created_at) \
                         VALUES (?1, 'insiders', '{\"summary\":\"s\",\"figures\":[],\"posts\":[],\"gaming_flags\":[]}', ?2, ?3)",
                        rusqlite::params![id as i64, status, i as i64],
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
    let nominees = |page: &str| -> Vec<u32> {
        page.split(">nominee").skip(1).filter_map(|rest| rest.split('<').next()?.parse().ok()).collect()
    };
    let pending: Vec<u32> = (0..50).filter(|i| i % 10 != 9).collect();
    let (status, _, first) = w.get(&moderator, "/mod/queue").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(nominees(&first), pending[..20], "the 20 oldest first");
    assert!(link(&first, "newer").is_none(), "no earlier page");
    let (_, _, second) = w.get(&moderator, &link(&first, "older").expect("a later page")).await;
    assert_eq!(nominees(&second), pending[20..40]);
    let (_, _, third) = w.get(&moderator, &link(&second, "older").expect("the last page")).await;
    assert_eq!(nominees(&third), pending[40..]);
    assert!(link(&third, "older").is_none(), "the last page has no later link");
    let (_, _, back) = w.get(&moderator, &link(&third, "newer").expect("an earlier page")).await;
    assert_eq!(back, second, "earlier from page 3 is page 2 again");

    // A refused decision on a later page comes back on the page that holds its form.
    let id = second.split("id=\"n").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    let (status, _, refused) =
        w.post_form(&moderator, &format!("/mod/queue/{id}"), "decision=approve&reason=", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.contains(&format!("id=\"n{id}\"")), "the refused nomination's form is on the page: {refused}");

    // The API: still an array, the pages on either side in a Link header.
    let request = axum::http::Request::get("/api/mod/queue")
        .header(axum::http::header::COOKIE, moderator.cookie.as_str())
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(w.app.clone(), request).await.unwrap();
    let next = response.headers().get(axum::http::header::LINK).map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 20);
    assert_eq!(json[0]["member_name"], "nominee0");
    let next = next.expect("a Link header");
    assert!(next.ends_with("rel=\"next\"") && next.starts_with("</api/mod/queue?after="), "{next}");
    let path = next.trim_start_matches('<').split('>').next().unwrap().to_owned();
    let (_, _, api) = w.get(&moderator, &path).await;
    let json: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(
        json[0]["member_name"], "nominee22",
        "the page after the first 20 (nominee9 and 19 were decided): {api}"
    );
}
