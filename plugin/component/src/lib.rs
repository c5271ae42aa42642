//! The Cadre super-user program as a component: WIT bindings in, `cadre-rules` calls, WIT bindings out.
//!
//! Owns only the conversions between the generated types and `cadre_rules::model`, and the glue that keeps the
//! configured [`Program`] between calls. All rules live in `plugin/rules`. Built `no_std` so that the component
//! imports nothing but its contract, `cadre:forum@0.2.0` (`store`, and `log`, which the runtime's panic handler
//! uses to pass a panic's message to the host).
#![no_std]

extern crate alloc;

mod convert;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use cadre_rules::{Kv, Program};

wit_bindgen::generate!({
    path: "../../wit/0.2.0",
    world: "plugin",
});

use cadre::forum::types;
use exports::cadre::forum::{hooks, program};

// Allocator, panic handler, `cabi_realloc` and `memcmp` for a no_std component.
use cadre_guest_rt as _;

/// The configured program. A component instance runs one call at a time, so a `RefCell` in a `static` is enough;
/// the `Sync` impl is sound because wasm32 without threads has a single thread.
struct Configured(RefCell<Option<Program>>);
unsafe impl Sync for Configured {}
static CONFIGURED: Configured = Configured(RefCell::new(None));

fn program() -> Program {
    CONFIGURED.0.borrow().clone().unwrap_or_default()
}

/// The host's store, seen through the rules' [`Kv`] trait.
struct HostKv;

impl Kv for HostKv {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        cadre::forum::store::get(key)
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        cadre::forum::store::set(key, value)
    }
    fn delete(&mut self, key: &str) {
        cadre::forum::store::delete(key)
    }
}

struct Component;

impl program::Guest for Component {
    fn describe() -> types::PluginInfo {
        convert::info(Program::info())
    }

    fn configure(settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        match Program::configure(&settings) {
            Ok(configured) => {
                let declaration = convert::declaration(configured.declaration());
                *CONFIGURED.0.borrow_mut() = Some(configured);
                Ok(declaration)
            }
            Err(errors) => Err(errors.into_iter().map(convert::config_error).collect()),
        }
    }

    fn member_record(member: types::MemberId, now: types::Timestamp) -> Vec<types::Figure> {
        program().member_record(&mut HostKv, member, now).into_iter().map(convert::figure).collect()
    }
}

fn handle(event: cadre_rules::model::Event) -> Vec<types::Effect> {
    let program = CONFIGURED.0.borrow();
    let default;
    let program = match program.as_ref() {
        Some(program) => program,
        None => {
            default = Program::default();
            &default
        }
    };
    program.handle(&mut HostKv, &event).into_iter().map(convert::effect).collect()
}

impl hooks::Guest for Component {
    fn on_post_created(event: types::PostCreated) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::PostCreated(convert::post_created(event)))
    }
    fn on_like_added(event: types::Like) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::LikeAdded(convert::like(event)))
    }
    fn on_like_removed(event: types::Like) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::LikeRemoved(convert::like(event)))
    }
    fn on_answer_accepted(event: types::Accept) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::AnswerAccepted(convert::accept(event)))
    }
    fn on_answer_unaccepted(event: types::Accept) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::AnswerUnaccepted(convert::accept(event)))
    }
    fn on_moderator_action(event: types::ModeratorAction) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::Moderator(convert::moderator_action(event)))
    }
    fn on_tick(now: types::Timestamp) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::Tick(now))
    }
    fn on_external_event(event: types::ExternalEvent) -> Vec<types::Effect> {
        handle(cadre_rules::model::Event::External(convert::external(event)))
    }
}

export!(Component);
