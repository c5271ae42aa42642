//! Helpers shared by the integration tests: a small forum that feeds events to a program and keeps the effects.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cadre_rules::model::{
    Accept, DAY_MS, Effect, Event, Figure, Like, ManualChange, MemberId, ModeratorAction, PostCreated, PostKind,
};
use cadre_rules::{MemoryKv, Program};

/// A program over an in-memory store, with every effect it returned.
pub struct Forum {
    pub program: Program,
    pub kv: MemoryKv,
    pub effects: Vec<Effect>,
}

impl Forum {
    pub fn new(settings: &str) -> Forum {
        let program = Program::configure(settings).unwrap_or_else(|e| panic!("bad settings: {e:#?}"));
        Forum { program, kv: MemoryKv::default(), effects: Vec::new() }
    }

    /// Handle an event; its effects.
    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        let effects = self.program.handle(&mut self.kv, &event);
        self.effects.extend(effects.iter().cloned());
        effects
    }

    pub fn like(&mut self, like: Like) -> i64 {
        let author = like.post_author;
        author.map_or(0, |a| points_of(&self.send(Event::LikeAdded(like)), a))
    }

    pub fn unlike(&mut self, like: Like) -> Vec<Effect> {
        self.send(Event::LikeRemoved(like))
    }

    pub fn points(&self) -> BTreeMap<MemberId, i64> {
        totals(&self.effects)
    }

    pub fn points_of(&self, member: MemberId) -> i64 {
        points_of(&self.effects, member)
    }

    pub fn record(&mut self, member: MemberId, day: i64) -> BTreeMap<String, Figure> {
        let figures = self.program.member_record(&mut self.kv, member, day * DAY_MS);
        figures.into_iter().map(|f| (f.key.clone(), f)).collect()
    }

    pub fn figure(&mut self, member: MemberId, day: i64, key: &str) -> f64 {
        self.record(member, day).get(key).unwrap_or_else(|| panic!("no figure {key}")).value
    }

    pub fn moderator(
        &mut self,
        action: fn(ManualChange) -> ModeratorAction,
        member: MemberId,
        tier: &str,
        day: i64,
    ) -> Vec<Effect> {
        let change =
            ManualChange { member, tier: tier.into(), moderator: 99, reason: "because".into(), at: day * DAY_MS };
        self.send(Event::Moderator(action(change)))
    }
}

/// Points per member in a list of effects.
pub fn totals(effects: &[Effect]) -> BTreeMap<MemberId, i64> {
    let mut out = BTreeMap::new();
    for effect in effects {
        if let Effect::AwardPoints { member, delta, .. } = effect {
            *out.entry(*member).or_default() += delta;
        }
    }
    out.retain(|_, p| *p != 0);
    out
}

pub fn points_of(effects: &[Effect], member: MemberId) -> i64 {
    effects
        .iter()
        .map(|e| match e {
            Effect::AwardPoints { member: m, delta, .. } if *m == member => *delta,
            _ => 0,
        })
        .sum()
}

/// A like on an answer.
pub fn like(id: u64, post: u64, author: Option<MemberId>, liker: Option<MemberId>, day: i64) -> Like {
    Like {
        like: id,
        post,
        post_kind: PostKind::Answer,
        post_author: author,
        post_wiki: false,
        liker,
        liker_joined: None,
        at: day * DAY_MS + 3_600_000,
        post_category: Some(1),
    }
}

pub fn liked(kind: PostKind, id: u64, author: MemberId, liker: MemberId, day: i64) -> Like {
    Like { post_kind: kind, ..like(id, 1000 + id, Some(author), Some(liker), day) }
}

pub fn accept(answer: u64, answerer: Option<MemberId>, asker: Option<MemberId>, day: i64) -> Accept {
    Accept { answer, answerer, answer_wiki: false, question: answer + 10_000, asker, at: day * DAY_MS + 7_200_000 }
}

pub fn post(post: u64, kind: PostKind, author: MemberId, day: i64) -> Event {
    Event::PostCreated(PostCreated {
        post,
        kind,
        author: Some(author),
        parent: None,
        category: 1,
        at: day * DAY_MS + 60_000,
        author_joined: None,
        question_author: None,
    })
}

pub fn grants(effects: &[Effect]) -> Vec<(MemberId, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::GrantBadge { member, badge, .. } => Some((*member, badge.clone())),
            _ => None,
        })
        .collect()
}
