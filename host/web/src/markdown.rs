//! Posts as forums write them: Markdown (`pulldown-cmark`), safe by construction. Paragraphs from blank lines and a
//! line break from each single one (CRLF as LF), links, code blocks and inline code, lists, quotes, emphasis.
//!
//! Nothing a member writes becomes markup they chose: raw HTML (a block or inline) is shown as the text it is;
//! a link is kept only when it goes to `http:`, `https:`, `mailto:` or a path on this site, and is written here
//! with `rel="nofollow ugc"` (no `javascript:`, no `data:`); an image becomes a link to it (no outside request on
//! page load, and no tracking pixels). Everything else is escaped by `pulldown-cmark`'s HTML writer.
//!
//! Owns rendering only. The text is stored as written; [`plain`] gives the words (excerpts, titles of hits).

use maud::{Markup, PreEscaped};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

/// Whether `url` may be a link: web and mail addresses, and paths on this site (never `javascript:`, `data:`, …).
fn safe_url(url: &str) -> bool {
    // Browsers ignore whitespace and control characters inside a scheme (`java\tscript:`): judge without them.
    let squeezed: String = url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = squeezed.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:") {
        return true;
    }
    // A path on this site: no scheme at all (`/t/…`, `#p…`), and not a protocol-relative `//host`.
    (lower.starts_with('/') && !lower.starts_with("//")) || lower.starts_with('#')
}

/// `text` escaped for a double-quoted attribute.
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A post's text as HTML.
pub fn render(text: &str) -> Markup {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let options = Options::ENABLE_STRIKETHROUGH;
    // For each open link or image: whether its closing tag is written (an unsafe link keeps only its text).
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new_ext(&text, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::SoftBreak => Some(Event::HardBreak),
        Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
            let safe = safe_url(&dest_url);
            open.push(safe);
            safe.then(|| {
                Event::InlineHtml(CowStr::from(format!("<a href=\"{}\" rel=\"nofollow ugc\">", attribute(&dest_url))))
            })
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            open.pop().unwrap_or(false).then(|| Event::InlineHtml(CowStr::from("</a>")))
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    PreEscaped(html)
}

/// The words of a post without its markup (for excerpts).
pub fn plain(text: &str) -> String {
    let mut out = String::new();
    for event in Parser::new(text) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_) | TagEnd::CodeBlock)
            | Event::End(TagEnd::BlockQuote(_)) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> String {
        render(text).into_string()
    }

    #[test]
    fn paragraphs_line_breaks_lists_quotes_and_code_render_as_a_forum_writes_them() {
        let out = html(
            "First line\r\nsecond line\r\n\r\nNew paragraph\n\n- one\n- two\n\n> quoted\n\n```\nlet x = 1 < 2;\n```\n\nUse `a<b`.",
        );
        assert!(out.contains("<p>First line<br />\nsecond line</p>"), "{out}");
        assert!(out.contains("<p>New paragraph</p>"), "{out}");
        assert!(out.contains("<li>one</li>") && out.contains("<blockquote>"), "{out}");
        assert!(out.contains("<pre><code>let x = 1 &lt; 2;\n</code></pre>"), "{out}");
        assert!(out.contains("<code>a&lt;b</code>"), "{out}");
    }

    #[test]
    fn links_are_nofollow_ugc_and_only_to_the_web_mail_or_this_site() {
        let out = html("[docs](https://example.org/a?b=1&c=\"2\") and [topic](/t/abc)");
        assert!(
            out.contains("<a href=\"https://example.org/a?b=1&amp;c=&quot;2&quot;\" rel=\"nofollow ugc\">docs</a>"),
            "{out}"
        );
        assert!(out.contains("<a href=\"/t/abc\" rel=\"nofollow ugc\">topic</a>"), "{out}");
        // Attack: a script URL, with the scheme hidden by case, whitespace and entities.
        for evil in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](data:text/html,hi)",
            "[x](//evil.example/)",
            "<javascript:alert(1)>",
        ] {
            let out = html(evil);
            assert!(!out.contains("<a "), "{evil}: {out}");
        }
        // An image is a link to it, never loaded by the page.
        let out = html("![cat](https://example.org/cat.png)");
        assert!(!out.contains("<img") && out.contains("rel=\"nofollow ugc\">cat</a>"), "{out}");
    }

    #[test]
    fn raw_html_is_shown_as_text_never_as_markup() {
        // Attack: a script block, an inline event handler, an iframe, a closing tag to escape the post.
        for evil in [
            "<script>alert(1)</script>",
            "hi <img src=x onerror=alert(1)> there",
            "<iframe src=//x></iframe>",
            "</div><div onclick=x>",
        ] {
            let out = html(evil);
            assert!(
                !out.contains("<script") && !out.contains("<img") && !out.contains("<iframe") && !out.contains("<div"),
                "{evil}: {out}"
            );
            assert!(out.contains("&lt;"), "{evil}: shown as text: {out}");
        }
    }

    #[test]
    fn the_plain_words_have_no_markup() {
        assert_eq!(
            plain("**Bold** and [a link](https://x.example) with `code`\n\n- item"),
            "Bold and a link with code item"
        );
    }
}
