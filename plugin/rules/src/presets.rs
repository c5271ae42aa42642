//! The presets: documented TOML configurations a moderator can start from (the files in `plugin/presets/`).
//!
//! - [`STACKEXCHANGE`]: exactly the rules of the Stack Exchange "forum model" (`PRESET.md`), so that replays of real
//!   dumps can be checked against each site's `expected-points.csv`;
//! - [`LEGENDS`]: a Mimecast-style Legends programme (capped like and login-style points, a Jedi Master gold badge
//!   above 20,000 points, accepted answers leading to nomination, certified and gold tiers);
//! - [`INSIDERS`]: vetted qualification in review mode, invited members kept apart, top customers vetted from
//!   account data (external events) nominated whether or not they post;
//! - [`ADVOCACY`]: a phased advocacy programme scoring forum activity and lifecycle triggers (external events).

/// The `stackexchange` preset.
pub const STACKEXCHANGE: &str = include_str!("../../presets/stackexchange.toml");
/// The `legends` preset.
pub const LEGENDS: &str = include_str!("../../presets/legends.toml");
/// The `insiders` preset.
pub const INSIDERS: &str = include_str!("../../presets/insiders.toml");

/// The `advocacy` preset.
pub const ADVOCACY: &str = include_str!("../../presets/advocacy.toml");

/// Every preset by name.
pub const ALL: [(&str, &str); 4] =
    [("stackexchange", STACKEXCHANGE), ("legends", LEGENDS), ("insiders", INSIDERS), ("advocacy", ADVOCACY)];

/// A preset's TOML by its name (`"stackexchange"`, `"legends"`, `"insiders"`).
pub fn by_name(name: &str) -> Option<&'static str> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::config::{Measure, Mode};

    #[test]
    fn every_preset_parses_without_errors() {
        for (name, text) in ALL {
            if let Err(errors) = Config::parse(text) {
                panic!("preset {name}: {errors:#?}");
            }
        }
    }

    #[test]
    fn presets_are_found_by_name_and_unknown_names_are_not() {
        assert_eq!(by_name("legends"), Some(LEGENDS));
        assert_eq!(by_name("nope"), None);
    }

    #[test]
    fn the_stackexchange_preset_has_the_preset_md_numbers_and_nothing_else() {
        let c = Config::parse(STACKEXCHANGE).unwrap();
        let p = &c.points;
        let numbers = (p.answer_liked, p.question_liked, p.answer_accepted, p.accepting, p.post_created, p.like_given);
        assert_eq!(numbers, (10, 10, 15, 2, 0, 0));
        assert_eq!(p.active_day, 0);
        assert_eq!(c.caps.likes_received_per_day, 200);
        assert!(c.caps.accepts_exempt);
        let a = &c.antigaming;
        assert_eq!(
            (a.pair_likes_per_day, a.pair_likes_per_week, a.young_liker_days, a.mutual_likes_flag),
            (0, 0, 0, 0)
        );
        assert!(c.badges.is_empty() && c.tiers.is_empty());
    }

    #[test]
    fn the_legends_preset_has_a_jedi_master_above_20000_points_and_reviewed_tiers() {
        let c = Config::parse(LEGENDS).unwrap();
        let jedi = c.badges.iter().find(|b| b.badge.name == "Jedi Master").unwrap();
        assert_eq!(jedi.badge.level, crate::model::BadgeLevel::Gold);
        assert!(jedi.when.get(Measure::Points).unwrap() > 20_000);
        let ids: alloc::vec::Vec<&str> = c.tiers.iter().map(|t| t.tier.id.as_str()).collect();
        assert_eq!(ids, ["certified", "gold"]);
        assert!(c.tiers.iter().all(|t| t.mode == Mode::Review && t.when.get(Measure::AcceptedAnswers).is_some()));
        let certified = &c.tiers[0].when.external[0];
        assert_eq!((certified.kind.as_str(), certified.within_days), ("certification.passed", Some(730)));
        assert!(c.points.active_day > 0 && c.caps.likes_given_per_day > 0, "capped login-style points");
    }

    #[test]
    fn the_insiders_preset_reviews_every_candidate() {
        let c = Config::parse(INSIDERS).unwrap();
        assert_eq!(c.tiers.len(), 2);
        assert!(c.tiers.iter().all(|t| t.mode == Mode::Review));
        assert_eq!(c.tiers[0].inactivity.after_days, 0);
    }
}
