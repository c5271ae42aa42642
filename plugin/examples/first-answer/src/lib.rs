//! An example program on `cadre-pdk`, as a new author would write it: **the first answer to a question earns a
//! badge; 1 point per answer, capped at 5 a day.** Answering one's own question earns nothing (unless a moderator
//! sets `self-answers-count = true`): the event says who asked (`question_author`), so the program keeps no copy of
//! the forum's posts.
//!
//! Build: `cargo build --release --target wasm32-wasip2`; try: `cadre plugin test
//! target/wasm32-wasip2/release/first_answer.wasm --events events.jsonl`; test natively: `cargo test`.
#![cfg_attr(target_arch = "wasm32", no_std)]

use cadre_pdk::prelude::*;

/// The badge the first answer to a question earns.
pub const FIRST_RESPONDER: &str = "first-responder";

/// The program under its settings.
pub struct FirstAnswer {
    points: i64,
    cap: i64,
    self_answers: bool,
}

impl Plugin for FirstAnswer {
    const NAME: &'static str = "first-answer";
    const VERSION: &'static str = "0.1.0";
    const SETTINGS: &'static [Setting] = &[
        Setting::integer("points-per-answer", 1, 0, 1_000, "Points for each answer"),
        Setting::integer("max-answer-points-per-day", 5, 0, 100_000, "Most points answers earn a member per UTC day"),
        Setting::boolean(
            "self-answers-count",
            false,
            "Whether answering one's own question earns points and the badge",
        ),
    ];

    fn configure(settings: &Settings) -> Result<Self, Vec<ConfigError>> {
        let plugin = FirstAnswer {
            points: settings.integer("points-per-answer"),
            cap: settings.integer("max-answer-points-per-day"),
            self_answers: settings.boolean("self-answers-count"),
        };
        if plugin.cap > 0 && plugin.points > plugin.cap {
            let message =
                format!("{} points per answer would always be cut to the daily cap of {}", plugin.points, plugin.cap);
            return Err(vec![settings.error("points-per-answer", message)]);
        }
        Ok(plugin)
    }

    fn badges(&self) -> Vec<Badge> {
        vec![Badge::new(FIRST_RESPONDER, "First Responder", BadgeLevel::Bronze, "Wrote the first answer to a question")]
    }

    fn on_post_created(&self, store: &mut dyn Store, event: &PostCreated) -> Vec<Effect> {
        let (PostKind::Answer, Some(author), Some(question)) = (event.kind, event.author, event.parent) else {
            return Vec::new();
        };
        let first = !store.contains(&format!("answered:{question}"));
        if first {
            store.set(&format!("answered:{question}"), &[1]);
        }
        if event.question_author == Some(author) && !self.self_answers {
            log::debug(&format!("member {author} answered their own question {question}: nothing earned"));
            return Vec::new();
        }
        store.add_i64(&format!("answers:{author}"), 1);
        let mut effects = vec![self.award(store, author, event)];
        if first {
            store.add_i64(&format!("first-answers:{author}"), 1);
            let reason = format!("first answer (post {}) to question {question}", event.post);
            effects.push(Effect::grant_badge(author, FIRST_RESPONDER, reason));
        }
        effects
    }

    fn member_record(&self, store: &mut dyn Store, member: MemberId, _now: Timestamp) -> Vec<Figure> {
        vec![
            Figure::new("answers", "Answers", store.get_i64(&format!("answers:{member}")) as f64),
            Figure::new("first-answers", "First answers", store.get_i64(&format!("first-answers:{member}")) as f64),
        ]
    }
}

impl FirstAnswer {
    /// The answer's points, cut to what is left of the author's daily cap (a 0-point award names the cap, so the
    /// ledger explains an answer that earned nothing).
    fn award(&self, store: &mut dyn Store, author: MemberId, event: &PostCreated) -> Effect {
        let day = day_of(event.at);
        // One key per member: the day and the points earned on it (8 + 8 bytes), reset when the day changes.
        let key = format!("today:{author}");
        let (stored_day, earned) = match store.get(&key) {
            Some(bytes) if bytes.len() == 16 => {
                let number =
                    |range: core::ops::Range<usize>| i64::from_le_bytes(bytes[range].try_into().unwrap_or([0; 8]));
                (number(0..8), number(8..16))
            }
            _ => (i64::MIN, 0),
        };
        let earned = if stored_day == day { earned } else { 0 };
        let points = if self.cap == 0 { self.points } else { self.points.min(self.cap - earned).max(0) };
        let mut value = day.to_le_bytes().to_vec();
        value.extend_from_slice(&(earned + points).to_le_bytes());
        store.set(&key, &value);
        let reason = if points < self.points {
            format!("answer (post {}): daily cap of {} reached", event.post, self.cap)
        } else {
            format!("answer (post {})", event.post)
        };
        Effect::award(author, points, "answer", reason)
    }
}

cadre_pdk::export_plugin!(FirstAnswer);
