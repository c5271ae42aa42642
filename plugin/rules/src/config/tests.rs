//! Configuration tests: defaults, every kind of error with its path and line, ladders, references, settings list.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::settings::SETTINGS;
use super::*;

fn errors(text: &str) -> Vec<(String, Option<u32>, String)> {
    Config::parse(text).unwrap_err().into_iter().map(|e| (e.path, e.line, e.message)).collect()
}

fn paths(text: &str) -> Vec<String> {
    errors(text).into_iter().map(|(path, _, _)| path).collect()
}

#[test]
fn an_empty_document_gives_the_defaults() {
    let config = Config::parse("").unwrap();
    assert_eq!(config.points.answer_liked, 10);
    assert_eq!(config.points.answer_accepted, 15);
    assert_eq!(config.caps.likes_received_per_day, 200);
    assert!(config.caps.accepts_exempt);
    assert_eq!(config.antigaming.pair_likes_per_day, 5);
    assert_eq!(config.badges.len(), 1);
    assert!(config.tiers.is_empty());
}

#[test]
fn every_error_is_reported_with_path_and_line_sorted_by_line() {
    let text = "[points]\nanswer-liked = \"lots\"\nbogus = 1\n\n[[badges]]\nid = \"x\"\nname = \"X\"\nlevel = \"platinum\"\ndescription = \"d\"\nwhen = { points = -5 }\n";
    let found = errors(text);
    let where_: Vec<(&str, Option<u32>)> = found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(
        where_,
        [
            ("points.answer-liked", Some(2)),
            ("points.bogus", Some(3)),
            ("badges[0].level", Some(8)),
            ("badges[0].when.points", Some(10)),
        ]
    );
    assert_eq!(found[0].2, "expected an integer from 0 to 1000000, found \"lots\"");
    assert_eq!(found[3].2, "expected an integer ≥ 0, found -5");
}

#[test]
fn broken_toml_is_refused_with_its_line() {
    let errors = Config::parse("[points]\nanswer-liked = = 3\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(2));
}

#[test]
fn wrong_types_and_out_of_range_numbers_are_named() {
    let text = "[caps]\naccepts-exempt = \"yes\"\nlikes-given-per-day = 1.5\n[antigaming]\nyoung-liker-percent = 150\n[review]\nbest-answers = true\n";
    let found = errors(text);
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().any(|(p, _, m)| p == "caps.accepts-exempt" && m == "expected true or false, found \"yes\""));
    assert!(found.iter().any(|(p, _, m)| p == "caps.likes-given-per-day" && m.contains("found the number 1.5")));
    assert!(found.iter().any(|(p, _, m)| p == "antigaming.young-liker-percent" && m.contains("from 0 to 100")));
    assert!(found.iter().any(|(p, _, _)| p == "review.best-answers"));
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    let text = "colour = 1\n[points]\nanswer-likes = 3\n[[badges]]\nid = \"a\"\nname = \"A\"\nlevel = \"gold\"\ndescription = \"d\"\nwhen = { point = 3 }\nshiny = true\n[[tiers]]\nid = \"t\"\nname = \"T\"\ndescription = \"d\"\nmood = \"auto\"\n";
    assert_eq!(
        paths(text),
        ["colour", "points.answer-likes", "badges[0].when.point", "badges[0].shiny", "tiers[0].mood"]
    );
}

const LADDER: &str = r#"
[[badges]]
id = "b"
name = "B"
level = "bronze"
description = "d"
ladder = "answers"
when = { accepted-answers = 10, points = 100 }

[[badges]]
id = "s"
name = "S"
level = "silver"
description = "d"
ladder = "answers"
when = { accepted-answers = 5, points = 500 }

[[badges]]
id = "g"
name = "G"
level = "gold"
description = "d"
ladder = "answers"
when = { points = 1000 }
"#;

#[test]
fn a_ladder_whose_higher_level_needs_less_is_refused() {
    let found = errors(LADDER);
    let where_: Vec<(&str, Option<u32>)> = found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert!(where_.contains(&("badges[1].when.accepted-answers", Some(16))), "{found:?}");
    assert!(
        where_.contains(&("badges[2].when.accepted-answers", Some(19))),
        "gold must also require answers: {found:?}"
    );
    assert_eq!(found.len(), 3, "gold vs bronze and gold vs silver both miss accepted-answers: {found:?}");
    assert!(found[0].2.contains("must be greater than 10"), "{found:?}");
}

#[test]
fn a_correct_ladder_and_two_badges_at_one_level_in_a_ladder() {
    let good = LADDER
        .replace("accepted-answers = 5,", "accepted-answers = 20,")
        .replace("when = { points = 1000 }", "when = { points = 1000, accepted-answers = 50 }");
    assert!(Config::parse(&good).is_ok(), "{:?}", Config::parse(&good));
    let twice = good.replace("level = \"gold\"", "level = \"silver\"");
    assert!(paths(&twice).contains(&String::from("badges[2].level")));
}

#[test]
fn references_to_badges_and_tiers_that_do_not_exist_are_refused() {
    let text = r#"
[[badges]]
id = "a"
name = "A"
level = "bronze"
description = "d"
when = { badges = ["ghost"] }

[[tiers]]
id = "gold"
name = "Gold"
description = "d"
requires-tier = "silver"
when = { points = 10, badges = ["a", "phantom"] }
"#;
    let found = errors(text);
    let where_: Vec<(&str, Option<u32>)> = found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(
        where_,
        [
            ("badges[0].when.badges[0]", Some(7)),
            ("tiers[0].requires-tier", Some(13)),
            ("tiers[0].when.badges[1]", Some(14))
        ]
    );
    assert_eq!(found[1].2, "no tier \"silver\" is declared in [[tiers]]");
}

#[test]
fn tiers_that_require_each_other_in_a_cycle_are_refused() {
    let tier = |id: &str, requires: &str| {
        format!("[[tiers]]\nid = \"{id}\"\nname = \"N\"\ndescription = \"d\"\nrequires-tier = \"{requires}\"\n")
    };
    let text = format!("{}{}", tier("a", "b"), tier("b", "a"));
    assert_eq!(paths(&text), ["tiers[0].requires-tier", "tiers[1].requires-tier"]);
}

#[test]
fn duplicate_ids_and_missing_fields_are_all_reported() {
    let text = "[[badges]]\nid = \"a\"\nname = \"A\"\nlevel = \"gold\"\ndescription = \"d\"\nwhen = { posts = 1 }\n[[badges]]\nid = \"a\"\nlevel = \"gold\"\n";
    assert_eq!(paths(text), ["badges[1].name", "badges[1].description", "badges[1].when", "badges[1].id"]);
}

#[test]
fn a_tier_reads_mode_requirements_and_inactivity() {
    let text = "[[tiers]]\nid = \"t\"\nname = \"T\"\ndescription = \"d\"\nmode = \"auto\"\nwhen = { accepted-answers = 20, distinct-likers = 25, points = 5000 }\n[tiers.inactivity]\ninactive-days = 90\n";
    let config = Config::parse(text).unwrap();
    let tier = &config.tiers[0];
    assert_eq!(tier.mode, Mode::Auto);
    assert_eq!(tier.when.get(Measure::DistinctLikers), Some(25));
    assert_eq!(tier.inactivity, Inactivity { after_days: 90, grace_days: 14 });
}

/// The scalar settings the documentation lists parse back to the built-in defaults.
#[test]
fn the_documented_defaults_are_the_real_defaults() {
    let defaults = Config::default();
    let mut doc = String::new();
    let mut table = "";
    for (path, default, _) in SETTINGS {
        let Some((section, key)) = path.split_once('.') else {
            continue;
        };
        if section.contains('[') {
            continue;
        }
        if section != table {
            doc.push_str(&format!("[{section}]\n"));
            table = section;
        }
        doc.push_str(&format!("{key} = {default}\n"));
    }
    assert_eq!(Config::parse(&doc).unwrap(), defaults, "{doc}");
    let documented: Vec<&str> = SETTINGS.iter().map(|(p, _, _)| *p).collect();
    for key in ["points.like-given", "caps.likes-given-per-day", "antigaming.mutual-likes-flag", "tiers[].mode"] {
        assert!(documented.contains(&key), "{key} is not documented");
    }
}

#[test]
fn every_setting_the_parser_reads_is_documented() {
    // A key written with a wrong type errors only if the parser reads it: so every documented scalar key gets an
    // error, and every key the parser reads must appear in the documentation (checked by the unknown-key test).
    let mut doc = String::new();
    let mut table = "";
    let mut count = 0;
    for (path, _, _) in SETTINGS {
        let Some((section, key)) = path.split_once('.') else {
            continue;
        };
        if section.contains('[') {
            continue;
        }
        if section != table {
            doc.push_str(&format!("[{section}]\n"));
            table = section;
        }
        doc.push_str(&format!("{key} = []\n"));
        count += 1;
    }
    let found = errors(&doc);
    assert_eq!(found.len(), count, "{found:?}");
    assert!(found.iter().all(|(_, _, m)| !m.starts_with("unknown")), "{found:?}");
}

#[test]
fn a_toml_syntax_error_names_the_key_or_table_on_its_line() {
    let errors = Config::parse("[caps]\nlikes-received-per-day = 1\nlikes-received-per-day = 2\n").unwrap_err();
    assert_eq!((errors[0].path.as_str(), errors[0].line), ("likes-received-per-day", Some(3)), "{errors:?}");
    assert!(errors[0].message.contains("duplicate key"), "{errors:?}");
    let errors = Config::parse("[caps]\n[caps]\n").unwrap_err();
    assert_eq!((errors[0].path.as_str(), errors[0].line), ("caps", Some(2)), "{errors:?}");
}

#[test]
fn ten_thousand_unknown_keys_are_reported_as_fifty_and_a_count_of_the_rest() {
    let text: String = (0..10_000).map(|i| format!("junk{i} = 1\n")).collect();
    let errors = Config::parse(&text).unwrap_err();
    assert_eq!(errors.len(), crate::config::reader::MAX_ERRORS + 1);
    for error in &errors[..50] {
        let number: u32 = error.path.strip_prefix("junk").unwrap().parse().unwrap();
        assert_eq!(error.line, Some(number + 1), "each line is still right: {error:?}");
    }
    let last = errors.last().unwrap();
    assert_eq!(last.line, None);
    assert!(last.message.contains("9950 more"), "{last:?}");
}

#[test]
fn control_characters_in_a_badge_name_or_description_are_refused_with_the_path() {
    let text = "[[badges]]\nid = \"b\"\nname = \"evil\\u001b[2J\"\nlevel = \"bronze\"\ndescription = \"two\\nlines\"\nwhen = { points = 1 }\n";
    let found = errors(text);
    let paths: Vec<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
    assert!(paths.contains(&"badges[0].name") && paths.contains(&"badges[0].description"), "{found:?}");
    assert!(found.iter().all(|(_, _, m)| m.contains("control characters")), "{found:?}");
}
