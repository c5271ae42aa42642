//! The HTML around every page: the layout (header with the viewer's links, the log-out form), the style sheet,
//! the small message page, dates. Built with `maud`, which escapes every interpolated string: no page builds HTML
//! by concatenating text.

use maud::{DOCTYPE, Markup, html};

use super::auth::Who;

/// The style sheet (served at `/static/style.css`). Plain CSS: pages work without JavaScript.
pub const STYLE: &str = include_str!("style.css");

/// A full page: header, the page's own content, footer.
pub fn page(who: &Who, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Cadre" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header.top {
                    a.brand href="/" { "Cadre forum" }
                    nav {
                        a href="/latest" { "Latest" }
                        form.search action="/search" method="get" {
                            input type="search" name="q" placeholder="Search" aria-label="Search" maxlength="100";
                        }
                        @if let Some(member) = &who.member {
                            @if member.moderator { a #mod-link href="/mod" { "Moderation" } }
                            a #me href={ "/u/" (member.name) } { (member.name) }
                            form.inline action="/logout" method="post" {
                                input type="hidden" name="csrf" value=(member.csrf);
                                button #logout type="submit" { "Log out" }
                            }
                        } @else {
                            a #login-link href="/login" { "Log in" }
                            a #signup-link href="/signup" { "Sign up" }
                        }
                    }
                }
                main { (content) }
                footer { "Cadre — a forum with a sandboxed super-user program. Works without JavaScript." }
            }
        }
    }
}

/// A page with one message (errors other than not-found, which has its own fixed page).
pub fn message_page(title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) " · Cadre" } link rel="stylesheet" href="/static/style.css"; }
            body { main.narrow { h1 { (title) } p.error { (message) } p { a href="/" { "Back to the forum" } } } }
        }
    }
}

/// A hidden CSRF field for a form.
pub fn csrf(who: &Who) -> Markup {
    html! { input type="hidden" name="csrf" value=(who.form_token()); }
}

/// `2026-11-23` for a time in ms since the epoch (UTC).
pub fn date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `2026-11-23 14:05` (UTC).
pub fn date_time(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(1440);
    format!("{} {:02}:{:02}", date(ms), minutes / 60, minutes % 60)
}

/// A number of the program's figures: whole numbers as such, fractions with two decimals.
pub fn figure(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value:.2}") }
}

/// `1 answer`, `3 answers`.
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A badge chip: level colour, name, and what earns it as a tooltip and caption.
pub fn badge(name: &str, level: &str, description: &str) -> Markup {
    html! {
        li.badge.(level) title=(description) {
            span.level { (level) } " " strong { (name) } span.what { " — " (description) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_printed_in_utc_from_milliseconds() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date_time(1_795_000_000_000), "2026-11-18 11:06");
    }
}

/// How long before `now` a moment was, as people say it: "just now", "5 minutes ago", "3 days ago", "2 years ago".
pub fn ago_from(ms: i64, now: i64) -> String {
    let seconds = (now - ms).max(0) / 1000;
    let (n, unit) = match seconds {
        0..60 => return "just now".to_owned(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// A moment as a relative time ("3 days ago"), the exact time (UTC) on hover and for machines.
pub fn ago(ms: i64) -> Markup {
    let now = super::auth::now_ms();
    html! { time datetime=(date_time(ms)) title={ (date_time(ms)) " UTC" } { (ago_from(ms, now)) } }
}

#[cfg(test)]
mod relative_time_tests {
    use super::ago_from;

    #[test]
    fn relative_times_read_as_people_say_them() {
        let day = 86_400_000;
        assert_eq!(ago_from(1_000, 30_000), "just now");
        assert_eq!(ago_from(0, 5 * 60_000), "5 minutes ago");
        assert_eq!(ago_from(0, 3_600_000), "1 hour ago");
        assert_eq!(ago_from(0, 3 * day), "3 days ago");
        assert_eq!(ago_from(0, 65 * day), "2 months ago");
        assert_eq!(ago_from(0, 800 * day), "2 years ago");
        assert_eq!(ago_from(10 * day, 0), "just now", "a clock behind the post's is not the future");
    }
}

/// A generated avatar: the name's first letter on one of twelve colours picked from the name (no outside service,
/// no inline style, which the content security policy forbids: the colours are classes of the style sheet).
pub fn avatar(name: &str) -> Markup {
    let hue = name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 12;
    let initial: String = name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    html! { span class={ "avatar c" (hue) } aria-hidden="true" { (initial) } }
}
