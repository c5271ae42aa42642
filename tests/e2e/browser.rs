//! Browser tests: Debian's headless Chromium, driven through chromedriver (WebDriver, `fantoccini`), against the
//! real server on a loopback port with the demo community. One story, step by step as members and moderators
//! click through it; screenshots of the key pages go to `target/browser-screenshots/`, each at 390 px (a phone) and
//! 1280 px wide, and every page visited must fit both widths without horizontal scrolling.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`apt-get install -y chromium chromium-driver`; `.ci/run`
//! installs them). Without them the test fails and says so: it never passes silently.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cadre::Forum;
use cadre::demo;
use cadre::runtime::{Limits, Runtime};
use cadre::web::{self, AppState, ForumHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, killed (by its own pid) when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(user_data: &Path) -> (Driver, Client) {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "the browser tests need {tool}: install Debian's chromium and chromium-driver \
             (apt-get update && apt-get install -y chromium chromium-driver); .ci/run does"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1280,1000", format!("--user-data-dir={}", user_data.display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let url = format!("http://127.0.0.1:{port}");
    for attempt in 0.. {
        match ClientBuilder::new(connector.clone()).capabilities(capabilities.clone()).connect(&url).await {
            Ok(client) => return (driver, client),
            Err(error) if attempt < 300 => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("chromedriver on port {port} did not start a Chromium session: {error}"),
        }
    }
    unreachable!()
}

/// The served demo forum; returns its base URL and the forum handle.
async fn serve_demo(db: PathBuf) -> (String, ForumHandle) {
    let forum = ForumHandle::spawn(move || {
        let mut forum = Forum::open(&db, Runtime::new(Limits::default(), None)?)?;
        demo::prepare(&mut forum, true)?;
        Ok(forum)
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve(listener, AppState::new(forum.clone()), std::future::pending()));
    (base, forum)
}

struct Session<'a> {
    client: &'a Client,
    base: &'a str,
}

impl Session<'_> {
    async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.fits(path).await;
    }

    /// The page is no wider than the window at 390 px (a phone) and at 1280 px: no horizontal scrolling.
    async fn fits(&self, what: &str) {
        for width in [390, 1280] {
            self.client.set_window_size(width, 1000).await.unwrap();
            let sizes = self
                .client
                .execute(
                    "const wide = [...document.querySelectorAll('body *')]
                         .filter(e => e.getBoundingClientRect().right > window.innerWidth)
                         .map(e => e.tagName + '.' + e.className).slice(0, 5).join(' ');
                     return [document.documentElement.scrollWidth, window.innerWidth, wide];",
                    vec![],
                )
                .await
                .unwrap();
            let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
            assert!(
                scroll <= inner,
                "{what} at {width} px: {scroll} px of content in a {inner} px window: {}",
                sizes[2]
            );
        }
    }

    /// Wait for an element (the page a click started may still be loading): up to 30 s, as CI runs other tests beside.
    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Wait until no element matches (the page a click started has loaded without it).
    async fn wait_gone(&self, xpath: &str) {
        for _ in 0..300 {
            if self.client.find_all(Locator::XPath(xpath)).await.map(|found| found.is_empty()).unwrap_or(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{xpath} is still there");
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn page(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Screenshots at 390 px and 1280 px (`name-390.png`, `name.png`), each width checked to fit.
    async fn shot(&self, name: &str) {
        self.fits(name).await;
        self.client.set_window_size(390, 1000).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{name}-390.png")), png).unwrap();
        self.client.set_window_size(1280, 1000).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
    }

    async fn log_in(&self, name: &str, password: &str) {
        self.open("/login").await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("#submit").await;
        assert_eq!(self.text("#me").await, name, "{name} is logged in");
    }

    async fn log_out(&self) {
        self.click("#logout").await;
        self.wait("#login-link").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn members_and_moderators_use_the_forum_and_the_panel_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let (base, forum) = serve_demo(dir.path().join("forum.db")).await;
    let (_driver, client) = browser(&dir.path().join("chromium")).await;
    // The story runs as its own task so that, pass or fail, the browser is closed (killing chromedriver alone
    // would leave Chromium running); then its panic, if any, is the test's.
    let story = tokio::spawn(story(client.clone(), base, forum)).await;
    let _ = client.close().await;
    if let Err(failure) = story {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Sign up, answer, like, accept, badge, approve, private forum, settings: each step as a person clicks it.
async fn story(client: Client, base: String, forum: ForumHandle) {
    let s = Session { client: &client, base: &base };
    let bob_open_question: i64 = forum
        .run(|f| {
            f.conn().query_row(
                "SELECT p.id FROM posts p JOIN members m ON m.id = p.author_id WHERE m.name = 'bob' \
                 AND p.kind = 'question' AND NOT EXISTS (SELECT 1 FROM accepts a WHERE a.question_id = p.id) \
                 ORDER BY p.id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap()
        .expect("the demo leaves bob a question without an accepted answer");
    let bob_open_question = forum.ids().post(bob_open_question as u64);

    // A newcomer signs up and answers bob's question.
    s.open("/").await;
    s.shot("forum-anonymous").await;
    s.click("#signup-link").await;
    s.fill("#name", "carol").await;
    s.fill("#password", "carol-password").await;
    s.click("#submit").await;
    assert_eq!(s.text("#me").await, "carol");
    s.open(&format!("/t/{bob_open_question}")).await;
    // A long unbroken URL must wrap on a phone, not widen the page.
    let long_url = format!("https://example.org/{}", "very-long-path-segment".repeat(12));
    let text =
        format!("Open the settings, turn the sync option off and on again: it rebuilds the index. See {long_url}");
    s.fill("#answer-body", &text).await;
    s.click("#answer-submit").await;
    s.wait("article.answer:last-of-type").await;
    for _ in 0..300 {
        if client.current_url().await.unwrap().fragment().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = client.current_url().await.unwrap();
    let answer: String = url.fragment().and_then(|f| f.strip_prefix('p')).map(str::to_owned).expect("#p<id>");
    assert!(s.page().await.contains("turn the sync option off and on again"));
    // Carol edits her answer: the edit page, then the topic marks it edited.
    s.open(&format!("/p/{answer}/edit")).await;
    s.shot("post-edit").await;
    s.fill("#body", &format!("{text}\n\nIf that does not help, `rm -rf ~/.cache/wallet` and restart.")).await;
    s.click("#edit-submit").await;
    s.wait(&format!("#p{answer} .edited")).await;
    assert!(s.page().await.contains("rm -rf ~/.cache/wallet"));
    let profile_before = {
        s.open("/u/carol").await;
        s.text("#badges").await
    };
    assert!(!profile_before.contains("Helpful"), "no badge before anyone accepts");
    s.log_out().await;

    // Bob likes the answer and accepts it.
    s.log_in("bob", demo::PASSWORD).await;
    s.open(&format!("/t/{bob_open_question}")).await;
    s.click(&format!("form[action='/p/{answer}/like'] button")).await;
    s.wait(&format!("form[action='/p/{answer}/unlike']")).await;
    s.click(&format!("form[action='/p/{answer}/accept'] button")).await;
    s.wait(&format!("form[action='/p/{answer}/unaccept']")).await;
    assert!(s.text(&format!("#p{answer} .meta")).await.contains("accepted answer"));
    assert!(s.text(&format!("#p{answer} .likes")).await.contains("1 like"));
    s.shot("topic-accepted").await;
    s.log_out().await;

    // Carol's profile now shows the badge, with its level and description.
    s.open("/u/carol").await;
    let badges = s.text("#badges").await;
    assert!(badges.contains("Helpful") && badges.contains("bronze") && badges.contains("accepted"), "{badges}");
    s.shot("profile-badge").await;

    // The moderator approves dave's nomination from the review queue.
    s.log_in("mod", demo::PASSWORD).await;
    s.open("/mod/queue").await;
    // The evidence names its best posts by their topics' titles, linked by public id.
    let best = s.text(".nomination .best-posts").await;
    assert!(best.contains('“') && !best.contains("(a post)"), "{best}");
    s.shot("moderator-queue").await;
    let dave = "//section[contains(@class,'nomination')][.//a[text()='dave']]";
    let section = client.find(Locator::XPath(dave)).await.unwrap();
    let reason = section.find(Locator::Css("input[name=reason]")).await.unwrap();
    reason.send_keys("Great answers in Help; welcome aboard").await.unwrap();
    section.find(Locator::Css("button.approve")).await.unwrap().click().await.unwrap();
    s.wait_gone(dave).await;
    s.open("/mod/members").await;
    assert!(s.text("#access").await.contains("dave"));
    s.shot("moderator-members").await;
    s.open("/mod/members/alice").await;
    s.shot("moderator-member-record").await;

    // A bad setting: the error is shown beside its line and field; nothing changes.
    s.open("/mod/settings").await;
    let settings = s.text("#settings").await;
    s.fill("#settings", &settings.replacen("answer-liked = 10", "answer-liked = \"lots\"", 1)).await;
    s.click("#check").await;
    let error = s.text(".field-error[data-path='points.answer-liked']").await;
    assert!(error.contains("points.answer-liked"), "{error}");
    s.shot("moderator-settings-error").await;
    // A good change, previewed before anything moves.
    s.fill("#settings", &settings.replacen("answer-accepted = 15", "answer-accepted = 40", 1)).await;
    s.click("#preview").await;
    let preview = s.text("#preview-result").await;
    assert!(preview.contains("What this change would do") && preview.contains("events replayed"), "{preview}");
    s.shot("moderator-settings-preview").await;
    s.open("/mod").await;
    s.shot("moderator-status").await;
    // Carol's edit, as the moderator sees it: the text before and after.
    s.open(&format!("/mod/posts/{answer}")).await;
    assert!(s.text("#current").await.contains("rm -rf"), "the text now");
    assert_eq!(client.find_all(Locator::Css(".revision")).await.unwrap().len(), 1, "one earlier version");
    s.shot("moderator-post-history").await;
    s.open("/mod/audit").await;
    s.shot("moderator-audit").await;
    s.open("/mod/categories").await;
    s.shot("moderator-categories").await;
    // A password reset link for bob, issued from his page.
    s.open("/mod/members/bob").await;
    s.click("#issue-reset").await;
    let link = s.text("#reset-url").await;
    assert!(link.starts_with("/reset/"), "{link}");
    s.shot("moderator-reset-link").await;
    s.log_out().await;
    // Bob follows it, sets a new password and is logged in; the link is dead after.
    s.open(&link).await;
    s.shot("reset-password").await;
    s.fill("#password", "bob-new-password").await;
    s.click("#reset-submit").await;
    assert_eq!(s.text("#me").await, "bob");
    s.log_out().await;
    s.open(&link).await;
    assert!(s.text(".error-page").await.contains("not valid"), "a used link is dead");

    // The new super user sees the private category; an ordinary member does not, not even by its address.
    s.log_in("dave", demo::PASSWORD).await;
    assert!(s.text("table.categories").await.contains("Insiders lounge"));
    s.open("/c/insiders").await;
    assert!(s.text("h1").await.contains("Insiders lounge"));
    s.shot("insider-private-category").await;
    s.log_out().await;
    s.log_in("carol", "carol-password").await;
    assert!(!s.text("table.categories").await.contains("Insiders lounge"));
    s.open("/c/insiders").await;
    assert_eq!(s.text("h1").await, "Page not found");
    assert_eq!(s.text("#me").await, "carol", "the not-found page keeps the header and the log-in state");
    s.shot("not-found").await;
    s.open("/").await;
    s.shot("forum-member").await;
}
