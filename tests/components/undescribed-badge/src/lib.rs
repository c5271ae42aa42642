//! Must provoke: `plugin inspect` refuses it: `configure("")` declares a badge (`undescribed`) that `describe` does
//! not list, so what a moderator is shown before installing is not what the program may grant.
#![no_std]

extern crate alloc;

use hostile_common::*;

struct UndescribedBadge;

impl Hostile for UndescribedBadge {
    fn configure(_settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        let mut declared = declaration();
        declared.badges.push(types::Badge {
            id: "undescribed".into(),
            name: "Undescribed".into(),
            level: types::BadgeLevel::Gold,
            description: "Not in describe".into(),
        });
        Ok(declared)
    }
}

hostile_component!(UndescribedBadge);
