//! Fuzz check 5 (differential): the bundled component (`plugin/component`, compiled to WebAssembly, run by the
//! host's runtime under its limits) against the same rules linked natively (`cadre_rules::Program`), over arbitrary
//! settings and event sequences.
//!
//! Settings are a preset whose integers the input may replace (so thresholds, caps and points take small values and
//! badges, tiers and caps actually trigger). Events come from [`arbitrary`] over a small world (members 1–6, posts
//! 1–12, likes 1–30, the preset's tiers and external kinds), so that likes, refunds, accepts and moderators'
//! decisions meet each other. The promises, checked after every event and at the end:
//! - both accept or refuse the settings alike (the same errors);
//! - every call gives the same effects, and the component's call succeeds (a refused effect is a finding too: the
//!   native rules would have produced something the host refuses);
//! - the two stores hold the same keys and values; every member's record reads the same.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use arbitrary::{Arbitrary, Unstructured};
use cadre_model::{Accept, Event, Like, ManualChange, ModeratorAction, PostCreated, PostKind};
use cadre_model::{Attribute, AttributeValue, ExternalEvent};
use cadre_rules::{MemoryKv, Program};
use cadre_runtime::Plugin;
use cadre_runtime::store::{BackendError, KvBackend};

use crate::common;

/// The component's store, shared so the check can read it after the calls.
#[derive(Debug, Default, Clone)]
struct SharedKv(Rc<RefCell<BTreeMap<String, Vec<u8>>>>);

impl KvBackend for SharedKv {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self.0.borrow().get(key).cloned())
    }
    fn total_bytes(&self) -> u64 {
        self.0.borrow().iter().map(|(k, v)| (k.len() + v.len()) as u64).sum()
    }
    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError> {
        let mut map = self.0.borrow_mut();
        for (key, value) in writes {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(())
    }
}

thread_local! {
    static PLUGIN: RefCell<Plugin> = RefCell::new(
        common::runtime().load_bytes("cadre_plugin.wasm", cadre_bundled::PROGRAM_WASM).expect("the bundled program loads").0,
    );
}

const PRESETS: [&str; 4] = ["stackexchange", "legends", "insiders", "advocacy"];

/// A preset with some of its integers replaced.
fn settings(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let text = common::preset(u.choose(&PRESETS)?);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let end = rest[start..].find(|c: char| !c.is_ascii_digit()).map_or(rest.len(), |e| start + e);
        out.push_str(&rest[..start]);
        let in_word = rest[..start].ends_with(|c: char| c.is_alphanumeric() || c == '-' || c == '.' || c == '_');
        if !in_word && u.ratio(1, 2)? {
            let value: u32 = if u.ratio(1, 8)? { u32::arbitrary(u)? } else { u.int_in_range(0..=12)? };
            out.push_str(&value.to_string());
        } else {
            out.push_str(&rest[start..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What the event generator draws ids from.
struct World {
    tiers: Vec<String>,
    kinds: Vec<String>,
    at: i64,
}

fn member(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    u.int_in_range(1..=6)
}

fn maybe_member(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<u64>> {
    Ok(if u.ratio(1, 12)? { None } else { Some(member(u)?) })
}

fn kind(u: &mut Unstructured<'_>) -> arbitrary::Result<PostKind> {
    u.choose(&[PostKind::Question, PostKind::Answer, PostKind::Reply]).copied()
}

fn joined(u: &mut Unstructured<'_>, at: i64) -> arbitrary::Result<Option<i64>> {
    Ok(if u.ratio(1, 6)? { None } else { Some(at - i64::from(u.int_in_range(0u32..=60)?) * cadre_model::DAY_MS) })
}

fn text(u: &mut Unstructured<'_>, choices: &[String]) -> arbitrary::Result<String> {
    if !choices.is_empty() && u.ratio(7, 8)? { Ok(u.choose(choices)?.clone()) } else { String::arbitrary(u) }
}

fn event(u: &mut Unstructured<'_>, world: &mut World) -> arbitrary::Result<Event> {
    // Mostly forward in time, by minutes to days; now and then a little back (imports are not always in order).
    let step = match u.int_in_range(0..=9)? {
        0 => -i64::from(u.int_in_range(0u32..=3_600_000)?),
        1..=5 => i64::from(u.int_in_range(0u32..=3_600_000)?),
        _ => i64::from(u.int_in_range(0u32..=3)?) * cadre_model::DAY_MS,
    };
    world.at += step;
    let at = world.at;
    let like = |u: &mut Unstructured<'_>| -> arbitrary::Result<Like> {
        Ok(Like {
            like: u.int_in_range(1..=30)?,
            post: u.int_in_range(1..=12)?,
            post_kind: kind(u)?,
            post_author: maybe_member(u)?,
            post_wiki: u.ratio(1, 16)?,
            liker: maybe_member(u)?,
            liker_joined: joined(u, at)?,
            at,
            post_category: if u.ratio(1, 4)? { None } else { Some(u.int_in_range(1..=3)?) },
        })
    };
    let accept = |u: &mut Unstructured<'_>| -> arbitrary::Result<Accept> {
        Ok(Accept {
            answer: u.int_in_range(1..=12)?,
            answerer: maybe_member(u)?,
            answer_wiki: u.ratio(1, 16)?,
            question: u.int_in_range(1..=12)?,
            asker: maybe_member(u)?,
            at,
        })
    };
    Ok(match u.int_in_range(0..=13)? {
        0..=2 => Event::PostCreated(PostCreated {
            post: u.int_in_range(1..=12)?,
            kind: kind(u)?,
            author: maybe_member(u)?,
            parent: if u.ratio(1, 3)? { None } else { Some(u.int_in_range(1..=12)?) },
            category: u.int_in_range(1..=3)?,
            at,
            author_joined: joined(u, at)?,
            question_author: maybe_member(u)?,
        }),
        3..=6 => Event::LikeAdded(like(u)?),
        7 => Event::LikeRemoved(like(u)?),
        8 => Event::AnswerAccepted(accept(u)?),
        9 => Event::AnswerUnaccepted(accept(u)?),
        10 => {
            let change = ManualChange {
                member: member(u)?,
                tier: text(u, &world.tiers)?,
                moderator: member(u)?,
                reason: text(u, &["fuzz".to_owned()])?,
                at,
            };
            Event::Moderator(match u.int_in_range(0..=3)? {
                0 => ModeratorAction::MemberAdded(change),
                1 => ModeratorAction::MemberRemoved(change),
                2 => ModeratorAction::NominationApproved(change),
                _ => ModeratorAction::NominationRejected(change),
            })
        }
        11 => Event::Tick(at),
        _ => {
            let mut attributes = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let name = text(u, &["tenure-years".into(), "spend-tier".into(), "score".into()])?;
                let value = match u.int_in_range(0..=2)? {
                    0 => AttributeValue::Integer(i64::arbitrary(u)?),
                    1 => AttributeValue::Boolean(bool::arbitrary(u)?),
                    _ => AttributeValue::Text(String::arbitrary(u)?),
                };
                attributes.push(Attribute { name, value });
            }
            Event::External(ExternalEvent {
                kind: text(u, &world.kinds)?,
                member: member(u)?,
                at,
                source: if u.ratio(1, 2)? { Some("crm".into()) } else { None },
                external_id: Some(format!("x{}", u.int_in_range(1..=20)?)),
                attributes,
            })
        }
    })
}

/// The settings and events an input stands for (external events the host would refuse are left out, as the host
/// never delivers them).
pub fn case(data: &[u8]) -> arbitrary::Result<(String, Vec<Event>)> {
    let mut u = Unstructured::new(data);
    let settings = settings(&mut u)?;
    let tiers = Program::configure(&settings).map(|p| p.declaration().tiers.into_iter().map(|t| t.id).collect());
    let kinds = ["customer.vetted", "event.attended", "certification.passed", "referral.made", "review.published"];
    let mut world = World {
        tiers: tiers.unwrap_or_default(),
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        at: 1_700_000_000_000,
    };
    let mut events = Vec::new();
    while !u.is_empty() && events.len() < 200 {
        let event = event(&mut u, &mut world)?;
        if let Event::External(external) = &event
            && !external.check().is_empty()
        {
            continue;
        }
        events.push(event);
    }
    Ok((settings, events))
}

/// Check one input (panics on a broken promise).
pub fn run(data: &[u8]) {
    let Ok((settings, events)) = case(data) else { return };
    compare(&settings, &events);
}

/// Run `events` through both under `settings` and compare everything (panics on a difference).
pub fn compare(settings: &str, events: &[Event]) {
    PLUGIN.with(|plugin| {
        let mut plugin = plugin.borrow_mut();
        let native = Program::configure(settings);
        let configured = plugin.configure(settings).expect("the component answers on settings");
        let program = match (native, configured) {
            (Ok(program), Ok(declaration)) => {
                assert_eq!(program.declaration(), declaration, "declarations differ");
                program
            }
            (Err(native), Err(component)) => {
                assert_eq!(native, component, "the settings are refused differently");
                return;
            }
            (native, component) => panic!("native {:?} but component {:?}", native.err(), component.err()),
        };
        let store = SharedKv::default();
        plugin.set_backend(Box::new(store.clone()));
        let mut kv = MemoryKv::default();
        let mut last = 0;
        for (i, event) in events.iter().enumerate() {
            let expected = program.handle(&mut kv, event);
            let got = plugin.call(event).unwrap_or_else(|error| {
                panic!("event {i} ({event:?}): the component failed where the native rules gave {expected:?}: {error}")
            });
            assert_eq!(got, expected, "event {i} ({event:?}): the effects differ (left: component, right: native)");
            last = last.max(cadre_model_at(event));
        }
        assert_eq!(*store.0.borrow(), kv.entries, "the stores differ after {} events", events.len());
        for member in 0..=7 {
            let native = program.member_record(&mut kv, member, last);
            let component = plugin.member_record(member, last).expect("the component reports a member");
            assert_eq!(component, native, "member {member}'s record differs");
        }
    });
}

fn cadre_model_at(event: &Event) -> i64 {
    match event {
        Event::PostCreated(e) => e.at,
        Event::LikeAdded(e) | Event::LikeRemoved(e) => e.at,
        Event::AnswerAccepted(e) | Event::AnswerUnaccepted(e) => e.at,
        Event::Moderator(action) => action.change().at,
        Event::Tick(at) => *at,
        Event::External(e) => e.at,
    }
}
