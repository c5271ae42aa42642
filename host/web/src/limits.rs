//! Rate limits on what can be abused from outside: failed log-ins per name from one address, failed log-ins per
//! client address, failed log-ins per name from everywhere, and sign-ups per client address. Each is a sliding
//! window of timestamps per key, kept in memory (a restart forgets them, which only helps a legitimate member) and
//! bounded: a key keeps at most its limit's count of timestamps, and a limiter at most [`MAX_KEYS`] keys, so a
//! flood of names or addresses cannot grow it without end.
//!
//! Nobody can lock a member out by failing log-ins with their name: the refusals are keyed by the *address* (with
//! or without the name), so the guesser locks out only their own address. What is counted per name alone, across
//! every address, does not refuse: past [`FAILED_LOGINS_PER_NAME_BEFORE_SLOW`] every attempt at that name takes the
//! slow path ([`RateLimits::slow_login`] before the password is even checked), which costs a guesser spread over
//! many addresses time and open connections while the member still gets in, a moment later.
//!
//! Does not decide what the key is: the client's address comes from `client`, names' keys come from
//! `cadre_core::forum::names::name_key` in `auth`.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

/// How many events one key may have within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed within the window; the next one is refused.
    pub max: usize,
    /// The window, in milliseconds.
    pub window_ms: i64,
}

const MINUTE_MS: i64 = 60_000;

/// Failed log-ins for one name from one client address: 5 in 15 minutes, then attempts at that name from that
/// address are refused unchecked (a password guesser gets 20 guesses an hour per name and address; a member who
/// mistyped waits a few minutes). The member, from any other address, is not affected.
pub const FAILED_LOGINS_PER_NAME: Limit = Limit { max: 5, window_ms: 15 * MINUTE_MS };

/// Failed log-ins for one name from every address together before each further attempt at it is slowed down
/// ([`RateLimits::slow_login`]) instead of refused: 10 in 15 minutes (two addresses' worth of mistakes).
pub const FAILED_LOGINS_PER_NAME_BEFORE_SLOW: Limit = Limit { max: 10, window_ms: 15 * MINUTE_MS };

/// How long an attempt on the slow path waits before its password is checked: 2 seconds, a moment for a member,
/// 450 guesses per quarter hour per connection for a guesser (whose every address is limited as well).
pub const SLOW_LOGIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Failed log-ins from one client address, whatever the names: 20 in 15 minutes (four names' worth), so that
/// guessing one common password against many names is limited too.
pub const FAILED_LOGINS_PER_ADDRESS: Limit = Limit { max: 20, window_ms: 15 * MINUTE_MS };

/// Accounts created from one client address: 5 an hour. Enough for a household or a small office behind one
/// address, too few for a script filling the forum with accounts.
pub const SIGNUPS_PER_ADDRESS: Limit = Limit { max: 5, window_ms: 60 * MINUTE_MS };

/// Most keys one limiter remembers (about 10 MB at most for the address limiters). When full, keys whose window
/// has passed go first, then the least recently active.
pub const MAX_KEYS: usize = 65_536;

/// A sliding-window limiter over keys of type `K`.
#[derive(Debug)]
pub struct Limiter<K> {
    limit: Limit,
    capacity: usize,
    events: Mutex<HashMap<K, VecDeque<i64>>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter remembering at most `capacity` keys.
    pub fn new(limit: Limit, capacity: usize) -> Limiter<K> {
        Limiter { limit, capacity: capacity.max(1), events: Mutex::new(HashMap::new()) }
    }

    /// The limit it enforces.
    pub fn limit(&self) -> Limit {
        self.limit
    }

    /// Whether `key` may act at `now` (counting nothing); otherwise how many milliseconds until it may.
    pub fn check(&self, key: &K, now: i64) -> Result<(), u64> {
        let events = self.events.lock().expect("the limiter lock is never poisoned");
        let Some(times) = events.get(key) else {
            return if self.limit.max == 0 { Err(self.limit.window_ms as u64) } else { Ok(()) };
        };
        let recent: Vec<i64> = times.iter().copied().filter(|at| now - at < self.limit.window_ms).collect();
        match recent.first() {
            Some(oldest) if recent.len() >= self.limit.max => Err((oldest + self.limit.window_ms - now).max(1) as u64),
            _ => Ok(()),
        }
    }

    /// Count one event for `key` at `now` if the limit allows it; otherwise change nothing and return how many
    /// milliseconds until it would. Checking and counting happen under one lock, so concurrent requests cannot all
    /// pass a check before any of them is counted.
    pub fn take(&self, key: &K, now: i64) -> Result<(), u64> {
        let mut events = self.events.lock().expect("the limiter lock is never poisoned");
        if let Some(times) = events.get_mut(key) {
            times.retain(|at| now - at < self.limit.window_ms);
            if times.len() >= self.limit.max {
                let oldest = times.front().copied().unwrap_or(now);
                return Err((oldest + self.limit.window_ms - now).max(1) as u64);
            }
            times.push_back(now);
            return Ok(());
        }
        if self.limit.max == 0 {
            return Err(self.limit.window_ms as u64);
        }
        if events.len() >= self.capacity {
            self.shrink(&mut events, now);
        }
        events.insert(key.clone(), VecDeque::from([now]));
        Ok(())
    }

    /// Give back the event [`take`](Limiter::take) counted at `now` (the attempt turned out not to count: the
    /// password was right, the account was not created).
    pub fn give_back(&self, key: &K, now: i64) {
        let mut events = self.events.lock().expect("the limiter lock is never poisoned");
        if let Some(times) = events.get_mut(key) {
            if let Some(at) = times.iter().rposition(|at| *at == now) {
                times.remove(at);
            }
            if times.is_empty() {
                events.remove(key);
            }
        }
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.events.lock().expect("the limiter lock is never poisoned").len()
    }

    /// True when no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Make room: forget keys whose window has passed; if that is not enough, forget the least recently active
    /// down to three quarters of the capacity (so the sort runs once per quarter-capacity of new keys, not on
    /// every one).
    fn shrink(&self, events: &mut HashMap<K, VecDeque<i64>>, now: i64) {
        events.retain(|_, times| times.back().is_some_and(|at| now - at < self.limit.window_ms));
        let keep = self.capacity * 3 / 4;
        if events.len() <= keep {
            return;
        }
        let mut latest: Vec<(i64, K)> =
            events.iter().map(|(key, times)| (times.back().copied().unwrap_or(0), key.clone())).collect();
        latest.sort_unstable_by_key(|(at, _)| *at);
        for (_, key) in latest.into_iter().take(events.len() - keep) {
            events.remove(&key);
        }
    }
}

/// The server's limiters.
#[derive(Debug)]
pub struct RateLimits {
    /// Failed log-ins per name key and client address (refusing).
    pub login_names: Limiter<(String, IpAddr)>,
    /// Failed log-ins per name key from every address (slowing, never refusing).
    pub login_names_everywhere: Limiter<String>,
    /// How long an attempt waits once its name is past [`FAILED_LOGINS_PER_NAME_BEFORE_SLOW`] ([`SLOW_LOGIN`]).
    pub slow_login: std::time::Duration,
    /// Failed log-ins per client address.
    pub login_addresses: Limiter<IpAddr>,
    /// Sign-ups per client address.
    pub signup_addresses: Limiter<IpAddr>,
    /// Log-ins being checked per client address, at most [`LOGINS_IN_FLIGHT_PER_ADDRESS`] at once.
    pub login_gates: LoginGates,
}

/// Log-ins from one address whose password is being checked at the same time; the others wait their turn.
///
/// Why: an attempt counts as a failure from its start (so concurrent guesses cannot all slip past the limit while
/// their hashes are checked) and is given back when the password is right. Without a gate, an office behind one
/// address whose 21 members log in at once after a restart would be refused as "too many failed log-ins" with not
/// one failure. With it, at most this many attempts are counted ahead of their outcome, so a refusal needs at least
/// `FAILED_LOGINS_PER_ADDRESS.max - LOGINS_IN_FLIGHT_PER_ADDRESS + 1` real failures.
pub const LOGINS_IN_FLIGHT_PER_ADDRESS: usize = 4;

/// One gate (a semaphore of [`LOGINS_IN_FLIGHT_PER_ADDRESS`] permits) per address with log-ins in flight. A gate
/// is dropped when its last log-in ends, so the map holds only addresses with attempts under way.
#[derive(Debug, Default)]
pub struct LoginGates {
    gates: Mutex<HashMap<IpAddr, std::sync::Arc<tokio::sync::Semaphore>>>,
}

/// A log-in's turn at its address's gate; the gate is forgotten when the last turn ends.
pub struct LoginTurn<'a> {
    gates: &'a LoginGates,
    client: IpAddr,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl LoginGates {
    /// Wait for a turn to check a password from `client`.
    pub async fn turn(&self, client: IpAddr) -> LoginTurn<'_> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            gates
                .entry(client)
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(LOGINS_IN_FLIGHT_PER_ADDRESS)))
                .clone()
        };
        // The semaphore is never closed, so acquiring only waits.
        let permit = gate.acquire_owned().await.ok();
        LoginTurn { gates: self, client, permit }
    }

    /// Addresses with log-ins in flight (for tests).
    pub fn len(&self) -> usize {
        self.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    /// Whether no log-in is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for LoginTurn<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut gates = self.gates.gates.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Only the map holds the gate: nobody else waits or checks at this address.
        if gates.get(&self.client).is_some_and(|gate| std::sync::Arc::strong_count(gate) == 1) {
            gates.remove(&self.client);
        }
    }
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            login_names: Limiter::new(FAILED_LOGINS_PER_NAME, MAX_KEYS),
            login_names_everywhere: Limiter::new(FAILED_LOGINS_PER_NAME_BEFORE_SLOW, MAX_KEYS),
            slow_login: SLOW_LOGIN,
            login_addresses: Limiter::new(FAILED_LOGINS_PER_ADDRESS, MAX_KEYS),
            signup_addresses: Limiter::new(SIGNUPS_PER_ADDRESS, MAX_KEYS),
            login_gates: LoginGates::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit { max: 3, window_ms: 1000 };

    #[test]
    fn a_key_gets_its_count_per_window_and_is_told_when_the_next_is_allowed() {
        let limiter = Limiter::new(LIMIT, 10);
        for at in [0, 100, 200] {
            assert_eq!(limiter.take(&"a", at), Ok(()));
        }
        assert_eq!(limiter.take(&"a", 300), Err(700), "the oldest leaves the window at 1000");
        assert_eq!(limiter.check(&"a", 300), Err(700));
        assert_eq!(limiter.check(&"a", 1000), Ok(()));
        assert_eq!(limiter.take(&"b", 300), Ok(()), "other keys are not affected");
        assert_eq!(limiter.take(&"a", 1000), Ok(()), "the window slides");
    }

    #[test]
    fn an_event_given_back_does_not_count() {
        let limiter = Limiter::new(LIMIT, 10);
        for at in 0..3 {
            limiter.take(&"a", at).unwrap();
            limiter.give_back(&"a", at);
        }
        assert!(limiter.is_empty());
        assert_eq!(limiter.take(&"a", 5), Ok(()));
    }

    #[test]
    fn a_flood_of_new_keys_never_grows_the_limiter_past_its_capacity() {
        let limiter = Limiter::new(LIMIT, 100);
        for key in 0..10_000u32 {
            limiter.take(&key, i64::from(key) / 100).unwrap();
            assert!(limiter.len() <= 100);
        }
        // The most recently active keys are the ones kept: the last one is still limited.
        for _ in 0..2 {
            limiter.take(&9_999, 100).unwrap();
        }
        assert!(limiter.take(&9_999, 100).is_err());
    }

    #[test]
    fn keys_whose_window_has_passed_are_forgotten_first() {
        let limiter = Limiter::new(LIMIT, 4);
        for key in 0..4 {
            limiter.take(&key, 0).unwrap();
        }
        limiter.take(&0, 2000).unwrap();
        limiter.take(&9, 2000).unwrap();
        assert_eq!(limiter.len(), 2, "only the keys active within the window are left");
    }
}
