//! Known weaknesses closed by the hardening work (issue 17), each against the real part it concerns: a tick over a
//! tier of half a million members through the compiled component under the default limits.

use cadre::runtime::{Event, Limits};
use cadre_model::Effect;
use cadre_rules::kv::codec;

use crate::util::{day, program, runtime};

const IDLE_TIER: &str = r#"
badges = []
[[tiers]]
id = "legends"
name = "Legends"
description = "d"
mode = "auto"
when = { accepted-answers = 2 }
[tiers.inactivity]
inactive-days = 10
grace-days = 5
"#;

#[test]
fn a_tick_over_a_tier_of_500000_members_never_runs_out_of_fuel_and_a_round_of_ticks_warns_each_member_once() {
    // Regresses the tick that walked every member of a tier in one call (issue 17): it ran out of fuel long
    // before half a million members.
    const MEMBERS: u64 = 500_000;
    let mut plugin = program(&runtime(Limits::default()), IDLE_TIER);
    // The store as the program leaves it once half a million members earned the tier on day 0 (the layout of
    // `plugin/rules/src/tiers.rs`: each member's standing, and the tier's index sharded by member id).
    let mut writes = Vec::with_capacity(MEMBERS as usize + 64);
    let mut shards = vec![Vec::new(); 64];
    for member in 1..=MEMBERS {
        writes.push((format!("m/{member}/tier/legends"), Some(codec::encode(&[2, 0, 0]))));
        shards[(member % 64) as usize].extend_from_slice(&member.to_le_bytes());
    }
    for (shard, ids) in shards.into_iter().enumerate() {
        assert!(ids.len() <= 64 << 10, "a shard fits the host's value limit");
        writes.push((format!("tier/legends/members/{shard}"), Some(ids)));
    }
    plugin.backend_mut().apply(writes).unwrap();
    // Day 10: every member has been idle for ten days. Ticks deliver warnings a bounded slice at a time.
    let mut warned = vec![false; MEMBERS as usize + 1];
    let (mut total, mut ticks) = (0u64, 0u64);
    while total < MEMBERS {
        ticks += 1;
        assert!(ticks <= MEMBERS / cadre_rules::TICK_EFFECTS as u64 + 2, "the walk stopped advancing");
        let effects = plugin
            .call(&Event::Tick(day(10)))
            .unwrap_or_else(|e| panic!("tick {ticks} failed (out of fuel or another limit): {e}"));
        assert!(effects.len() <= cadre_rules::TICK_EFFECTS);
        for effect in effects {
            let Effect::NotifyModerators { member: Some(member), .. } = effect else { panic!("{effect:?}") };
            assert!(!std::mem::replace(&mut warned[member as usize], true), "member {member} warned twice");
            total += 1;
        }
    }
    // The round is over: another tick on the same day warns nobody a second time.
    for _ in 0..(MEMBERS as usize / cadre_rules::TICK_MEMBERS + 1) {
        assert!(plugin.call(&Event::Tick(day(10))).unwrap().is_empty());
    }
}
