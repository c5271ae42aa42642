//! Refused forms, over real HTTP as a browser sends them: a bad sign-up, a wrong password, an empty question, an
//! over-long answer or reply come back as the same form with the error at its top and what was typed still in it
//! (HTML-escaped; never the password), with the refusal's status — and the form can be corrected and sent again.
//! A forged form is still refused outright.

use axum::http::StatusCode;
use cadre::web::AppState;

use crate::web_http::{Answer, Browser, serve, token_in};
use crate::web_world::{World, world};

/// Text longer than a post may be (64 KiB), made of characters HTML must escape.
fn too_long() -> String {
    "<b>&</b>".repeat(65_536 / 8 + 1)
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The error shown at the top of the refused form.
fn form_error(page: &Answer) -> &str {
    let at = page.body.find("id=\"form-error\"").unwrap_or_else(|| panic!("no #form-error: {}", page.body));
    let text = &page.body[at..];
    &text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()]
}

async fn posts(w: &World) -> i64 {
    w.state
        .forum
        .run(|f| f.conn().query_row("SELECT COUNT(*) FROM posts", [], |r| r.get::<_, i64>(0)).unwrap())
        .await
        .unwrap()
}

async fn logged_in(w: &World, base: &str) -> Browser {
    let plain = w.plain;
    w.state
        .forum
        .run(move |f| cadre::web::auth::set_password(f.conn(), plain, "plain-password").unwrap())
        .await
        .unwrap();
    let mut browser = Browser::new(base, "127.0.0.1");
    let csrf = browser.form_token("/login").await;
    let answer =
        browser.post_form("/login", &[("csrf", &csrf), ("name", "plain"), ("password", "plain-password")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    browser
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_sign_up_or_log_in_shows_the_form_again_with_the_error_and_the_name_but_never_the_password() {
    let w = world(false);
    let base = serve(AppState::new(w.state.forum.clone())).await;
    let mut visitor = Browser::new(&base, "127.0.0.1");

    // A name that is taken: 409, the sign-up form again with the name kept.
    let csrf = visitor.form_token("/signup").await;
    let taken =
        visitor.post_form("/signup", &[("csrf", &csrf), ("name", "plain"), ("password", "typed-secret-1")]).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(form_error(&taken), "the name &quot;plain&quot; is taken");
    assert!(taken.body.contains("action=\"/signup\"") && taken.body.contains("value=\"plain\""), "{}", taken.body);
    assert!(!taken.body.contains("typed-secret-1"), "the password is never sent back");

    // A name with markup in it: 400, shown escaped, never as markup.
    let markup = "<b onmouseover=\"x\">me</b>";
    let bad = visitor.post_form("/signup", &[("csrf", &csrf), ("name", markup), ("password", "typed-secret-2")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(form_error(&bad).starts_with("a name has 3 to 64 letters"), "{}", form_error(&bad));
    assert!(bad.body.contains(&format!("value=\"{}\"", escaped(markup))), "{}", bad.body);
    assert!(!bad.body.contains(markup) && !bad.body.contains("typed-secret-2"));

    // A wrong password: 401, the log-in form again with the name kept and the password field empty.
    let plain = w.plain;
    w.state
        .forum
        .run(move |f| cadre::web::auth::set_password(f.conn(), plain, "plain-password").unwrap())
        .await
        .unwrap();
    let csrf = visitor.form_token("/login").await;
    let wrong =
        visitor.post_form("/login", &[("csrf", &csrf), ("name", "plain"), ("password", "typed-secret-3")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(form_error(&wrong), "wrong name or password");
    assert!(wrong.body.contains("action=\"/login\"") && wrong.body.contains("value=\"plain\""), "{}", wrong.body);
    assert!(!wrong.body.contains("typed-secret-3"), "the password is never sent back");
    // The form shown again works: corrected and sent, the member is in.
    let csrf = token_in(&wrong.body).unwrap();
    let right =
        visitor.post_form("/login", &[("csrf", &csrf), ("name", "plain"), ("password", "plain-password")]).await;
    assert_eq!((right.status, right.location()), (StatusCode::SEE_OTHER, "/"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_question_answer_or_reply_comes_back_in_its_form_with_the_error_and_the_text() {
    let w = world(false);
    let base = serve(AppState::new(w.state.forum.clone())).await;
    let mut member = logged_in(&w, &base).await;
    let before = posts(&w).await;

    // A question without details: the category page again, title kept (escaped), the error above the form.
    let csrf = member.form_token("/c/general").await;
    let title = "Why <i>&</i> \"how\"?";
    let asked = member.post_form("/c/general/topics", &[("csrf", &csrf), ("title", title), ("body", " ")]).await;
    assert_eq!(asked.status, StatusCode::BAD_REQUEST);
    assert_eq!(form_error(&asked), "a post needs 1 to 65536 bytes of text");
    assert!(asked.body.contains("action=\"/c/general/topics\""), "the category page's ask form: {}", asked.body);
    assert!(asked.body.contains(&format!("value=\"{}\"", escaped(title))), "{}", asked.body);
    assert!(asked.body.contains("Public question"), "the category's topics are listed as before");
    // A question without a title keeps its details.
    let details = "Step one: <script>alert(1)</script>";
    let untitled = member.post_form("/c/general/topics", &[("csrf", &csrf), ("title", ""), ("body", details)]).await;
    assert_eq!(untitled.status, StatusCode::BAD_REQUEST);
    assert_eq!(form_error(&untitled), "a question needs a title of 1 to 300 bytes");
    assert!(untitled.body.contains(&format!(">{}</textarea>", escaped(details))), "{}", untitled.body);
    assert!(!untitled.body.contains("<script>alert(1)"));

    // An answer too long: the topic again, the text back in the answer form. (The world's public question is
    // post 1, its answer post 2.)
    let text = too_long();
    let (question, answer) = (w.id(1), w.id(2));
    let answered = member.post_form(&format!("/t/{question}/answers"), &[("csrf", &csrf), ("body", &text)]).await;
    assert_eq!(answered.status, StatusCode::BAD_REQUEST);
    assert_eq!(form_error(&answered), "a post needs 1 to 65536 bytes of text");
    assert!(answered.body.contains(&format!("action=\"/t/{question}/answers\"")), "{}", &answered.body[..2000]);
    assert!(answered.body.contains(&format!(">{}</textarea>", escaped(&text))), "the answer's text is kept");

    // A reply too long: the topic again, the reply form under its post open, with the text and the error.
    let replied = member.post_form(&format!("/p/{answer}/replies"), &[("csrf", &csrf), ("body", &text)]).await;
    assert_eq!(replied.status, StatusCode::BAD_REQUEST);
    let reply_form = format!("action=\"/p/{answer}/replies\"");
    let form = &replied.body[replied.body.find(&reply_form).expect("the reply form of post 2")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("id=\"form-error\"") && form.contains(&escaped(&text)), "the error and text in its form");
    assert!(replied.body.contains("<details class=\"reply\" open>"), "the reply form is open");
    assert_eq!(posts(&w).await, before, "nothing was posted");

    // Corrected and sent from the form shown again, it is posted.
    let csrf = token_in(&answered.body).unwrap();
    let posted =
        member.post_form(&format!("/t/{question}/answers"), &[("csrf", &csrf), ("body", "A short answer.")]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    assert_eq!(posts(&w).await, before + 1);

    // A forged form is refused as before: no form, no text sent back.
    let forged =
        member.post_form("/c/general/topics", &[("csrf", "forged"), ("title", "Forged title"), ("body", "")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!forged.body.contains("Forged title") && !forged.body.contains("form-error"), "{}", forged.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_panel_form_comes_back_as_its_page_with_the_error_at_the_top_and_what_was_typed() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let error_of = |body: &str| -> String {
        let at = body.find("id=\"form-error\"").unwrap_or_else(|| panic!("no #form-error: {body}"));
        let text = &body[at..];
        text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()].to_owned()
    };
    // Adding a member nobody is called: the members page, its add form still filled in.
    let (status, _, body) =
        w.post_form(&moderator, "/mod/members/add", "name=nobody-here&tier=insiders&reason=top+customer", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("no member is called"), "{body}");
    assert!(body.contains("Tier access") && body.contains("value=\"nobody-here\""), "{body}");
    assert!(body.contains("value=\"top customer\""), "the reason is kept: {body}");
    // Removing without a reason (a browser requires one; a script may not send it).
    let (status, _, body) = w.post_form(&moderator, "/mod/members/remove", "name=insider&tier=insiders", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("a reason of 1 to"), "{body}");
    // A category private to a tier the settings do not declare: the categories page, the form filled in.
    let (status, _, body) =
        w.post_form(&moderator, "/mod/categories", "slug=backroom&name=Back+room&tier=nonesuch", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("the settings declare no tier"), "{body}");
    assert!(body.contains("value=\"backroom\"") && body.contains("value=\"Back room\""), "{body}");
    // A decision without a reason: the review queue.
    let (status, _, body) = w.post_form(&moderator, "/mod/queue/1", "decision=approve&reason=", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("a reason of 1 to") && body.contains("Review queue"), "{body}");
    // A forged panel form is still refused outright, on its own page.
    let (status, _, body) = w.post_form(&moderator, "/mod/categories", "slug=forged&name=Forged&tier=", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!body.contains("form-error"), "{body}");
}
