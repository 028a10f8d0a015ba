//! The proof-of-work at the join (README, "Bots and accounts"): per event `challenge: off |
//! auto | always`. A join that must pay is answered `428 challenge_required` with a
//! challenge in the `Vestibule-Challenge` header; the caller solves it and joins again with
//! the solution in `Vestibule-Solution`.
//!
//! The scheme is ALTCHA's proof-of-work v2 (the `altcha` crate), in its deterministic mode:
//! the room picks a counter below the level's bound, derives SHA-256(salt ‖ nonce ‖ counter)
//! and gives the first half of that key as the prefix to find; the solver tries counters
//! from 0 until the key starts with it (on average half the bound), and sends the whole
//! key. The room checks the challenge's HMAC and the HMAC of the key it signed when it made
//! the challenge: two HMACs, no hashing search, whatever the level. A challenge carries, in
//! its signed `data`, the event, a digest of who it is for (the JSON caller's user or
//! account, the page's visitor), its level and its expiry on the room's clock; a solution
//! is accepted once (its nonce is kept in Redis until the challenge expires: a JSON join
//! spends it in the join script, in the same step as the join; the page's form with
//! `Store::spend_nonce`).

use std::collections::BTreeMap;

use altcha::{create_challenge, verify_solution, Challenge, CreateChallengeOptions, Payload};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::domain::{ChallengeMode, PageChallenge};

/// The header that carries a challenge to the caller.
pub const CHALLENGE_HEADER: &str = "vestibule-challenge";
/// The header that carries the caller's solution back.
pub const SOLUTION_HEADER: &str = "vestibule-solution";
/// How long a challenge may be answered.
pub const LIFETIME_MS: u64 = 300_000;
/// Longest solution header accepted (bytes).
pub const MAX_SOLUTION_LEN: usize = 2_048;
/// The highest level.
pub const MAX_LEVEL: u8 = crate::domain::MAX_CHALLENGE_LEVEL;

/// The bound on the counter at each level (index = level): a solver tries on average half
/// of it (one SHA-256 each). Level 0 asks nothing.
pub const COUNTER_BOUND: [u32; 5] = [0, 10_000, 50_000, 150_000, 400_000];

/// The level an event's pressure asks for. `waiting`: people in its line; `joins_per_s`:
/// its recent join rate. In `auto`, a short, calm line (standby included) costs nothing;
/// the work grows with the line and with the rate of joins, up to [`MAX_LEVEL`]. In
/// `always`, at least level 1, or `floor` (the operator's lowest level).
pub fn level(mode: ChallengeMode, floor: u8, waiting: u64, joins_per_s: f64) -> u8 {
    let by_line = match waiting {
        0..1_000 => 0,
        1_000..10_000 => 1,
        10_000..100_000 => 2,
        100_000..1_000_000 => 3,
        _ => 4,
    };
    let by_rate = match joins_per_s {
        r if r < 200.0 => 0,
        r if r < 1_000.0 => 1,
        r if r < 5_000.0 => 2,
        r if r < 20_000.0 => 3,
        _ => 4,
    };
    let pressure = u8::max(by_line, by_rate);
    match mode {
        ChallengeMode::Off => 0,
        ChallengeMode::Auto => pressure,
        ChallengeMode::Always => pressure.max(floor.clamp(1, MAX_LEVEL)),
    }
}

/// The time-lock of the page's join, per level (index = level), in seconds: a browser
/// without JavaScript cannot solve a challenge, so its join form opens this long after it
/// was served instead.
pub const TIME_LOCK_S: [u64; 5] = [0, 2, 5, 10, 20];

/// A join form's time-lock, checked: its nonce (spent once) and how long until it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocked {
    pub nonce: String,
    pub opens_in_ms: u64,
}

/// Why a solution was refused (each a sentence for people).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeRefusal {
    #[error("this join needs a solved challenge: solve the one in the Vestibule-Challenge header and send it in Vestibule-Solution")]
    Missing,
    #[error("the solution is not readable (base64url of the JSON {{challenge, solution}})")]
    Unreadable,
    #[error("the solution does not solve a challenge this room made")]
    Wrong,
    #[error("the challenge has expired: solve the new one")]
    Expired,
    #[error("the challenge was made for another event or caller")]
    NotYours,
    #[error("this solution was used already: solve the new challenge")]
    Spent,
}

/// Makes and checks challenges with the room's secret.
pub struct Challenger {
    secret: String,
    key_secret: String,
}

/// A solution that holds: its nonce, to be spent once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solved {
    pub nonce: String,
}

impl Challenger {
    /// From the room's cookie secret (challenges are never shared with another room).
    pub fn new(root: &[u8]) -> Self {
        let derive = |label: &str| {
            let mut h = Sha256::new();
            h.update(label.as_bytes());
            h.update(root);
            hex::encode(h.finalize())
        };
        Self {
            secret: derive("vestibule challenge\n"),
            key_secret: derive("vestibule challenge key\n"),
        }
    }

    /// A challenge at `level` (1..=[`MAX_LEVEL`]) for `who` in `event`, as the header
    /// carries it: base64url (no padding) of its JSON.
    pub fn issue(&self, event: &str, who: &str, level: u8, now_ms: u64) -> String {
        self.make(event, who, level, now_ms).0
    }

    /// The same challenge as a page's island solves it.
    pub fn issue_to_page(&self, event: &str, who: &str, level: u8, now_ms: u64) -> PageChallenge {
        let (header, challenge) = self.make(event, who, level, now_ms);
        let p = challenge.parameters;
        PageChallenge {
            header,
            salt: p.salt,
            nonce: p.nonce,
            key_prefix: p.key_prefix,
            bound: COUNTER_BOUND[usize::from(level.clamp(1, MAX_LEVEL))],
        }
    }

    fn make(&self, event: &str, who: &str, level: u8, now_ms: u64) -> (String, Challenge) {
        let bound = COUNTER_BOUND[usize::from(level.clamp(1, MAX_LEVEL))];
        let mut data = BTreeMap::new();
        data.insert("e".to_string(), serde_json::Value::from(event));
        data.insert("w".to_string(), serde_json::Value::from(digest(who)));
        data.insert("l".to_string(), serde_json::Value::from(level));
        data.insert(
            "x".to_string(),
            serde_json::Value::from(now_ms + LIFETIME_MS),
        );
        let challenge = create_challenge(CreateChallengeOptions {
            algorithm: "SHA-256".into(),
            cost: 1,
            counter: Some(rand::random_range(0..bound)),
            data: Some(data),
            hmac_signature_secret: Some(self.secret.clone()),
            hmac_key_signature_secret: Some(self.key_secret.clone()),
            ..Default::default()
        })
        .expect("a SHA-256 challenge with a counter is always made");
        let header =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&challenge).expect("a challenge is JSON"));
        (header, challenge)
    }

    /// A join form's time-lock for `event` at `level`, served at `now_ms`:
    /// `<served ms>.<level>.<nonce>.<HMAC>`, opening [`TIME_LOCK_S`] later. Nothing is
    /// stored: the form carries it.
    pub fn lock(&self, event: &str, level: u8, now_ms: u64) -> String {
        let level = level.min(MAX_LEVEL);
        let nonce = format!("{:032x}", rand::random::<u128>());
        let body = format!("{now_ms}.{level}.{nonce}");
        let mac = self.mac(event, &body);
        format!("{body}.{mac}")
    }

    /// Checks a join form's time-lock for `event` at `now_ms`.
    pub fn check_lock(
        &self,
        lock: &str,
        event: &str,
        now_ms: u64,
    ) -> Result<Unlocked, ChallengeRefusal> {
        let (body, mac) = lock.rsplit_once('.').ok_or(ChallengeRefusal::Unreadable)?;
        let expected = self.mac(event, body);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            mac.as_bytes(),
        )) {
            return Err(ChallengeRefusal::NotYours);
        }
        let mut parts = body.split('.');
        let (Some(served), Some(level), Some(nonce), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ChallengeRefusal::Unreadable);
        };
        let served: u64 = served.parse().map_err(|_| ChallengeRefusal::Unreadable)?;
        let level: usize = level.parse().map_err(|_| ChallengeRefusal::Unreadable)?;
        let opens = served + TIME_LOCK_S.get(level).ok_or(ChallengeRefusal::Unreadable)? * 1_000;
        if served + LIFETIME_MS <= now_ms {
            return Err(ChallengeRefusal::Expired);
        }
        Ok(Unlocked {
            nonce: nonce.to_owned(),
            opens_in_ms: opens.saturating_sub(now_ms),
        })
    }

    fn mac(&self, event: &str, body: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key_secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(b"time-lock\n");
        mac.update(event.as_bytes());
        mac.update(b"\n");
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a solution header for `who` in `event` at `now_ms`.
    pub fn check(
        &self,
        header: &str,
        event: &str,
        who: &str,
        now_ms: u64,
    ) -> Result<Solved, ChallengeRefusal> {
        if header.len() > MAX_SOLUTION_LEN {
            return Err(ChallengeRefusal::Unreadable);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(header.trim())
            .map_err(|_| ChallengeRefusal::Unreadable)?;
        let payload: Payload =
            serde_json::from_slice(&bytes).map_err(|_| ChallengeRefusal::Unreadable)?;
        let options = altcha::VerifySolutionOptions {
            hmac_key_signature_secret: Some(self.key_secret.clone()),
            ..altcha::VerifySolutionOptions::new(
                &payload.challenge,
                &payload.solution,
                self.secret.as_str(),
            )
        };
        // Without the key's signature the crate would search nothing but hash once; a
        // challenge of this room always has one.
        if payload.challenge.parameters.key_signature.is_none() {
            return Err(ChallengeRefusal::Wrong);
        }
        let verdict = verify_solution(options).map_err(|_| ChallengeRefusal::Wrong)?;
        if !verdict.verified {
            return Err(ChallengeRefusal::Wrong);
        }
        let data = signed_data(&payload.challenge).ok_or(ChallengeRefusal::Wrong)?;
        if data.expires_ms <= now_ms {
            return Err(ChallengeRefusal::Expired);
        }
        if data.event != event || data.who != digest(who) {
            return Err(ChallengeRefusal::NotYours);
        }
        Ok(Solved {
            nonce: payload.challenge.parameters.nonce,
        })
    }
}

/// The solution header of a page's join form: its challenge `header` as the page was
/// given it, and the `counter` and `key` its island found. `None` when unreadable.
pub fn page_solution(header: &str, counter: &str, key: &str) -> Option<String> {
    if header.len() > MAX_SOLUTION_LEN || key.len() > 128 {
        return None;
    }
    let challenge: Challenge =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header.trim()).ok()?).ok()?;
    let solution = altcha::Solution {
        counter: counter.trim().parse().ok()?,
        derived_key: key.trim().to_owned(),
        time: None,
    };
    let payload = Payload {
        challenge,
        solution,
    };
    Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).ok()?))
}

/// What checking a solution costs this process: CPU µs per [`Challenger::check`] (the
/// whole of it: base64, JSON, both HMACs) and per [`Challenger::issue`], over `rounds`
/// of each, one thread. For `bench.sh` (`vestibule --measure-challenge N`).
pub fn measure(rounds: u32) -> (f64, f64) {
    let room = Challenger::new(b"measure");
    let now = 1_800_000_000_000;
    let cpu = || {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec it is given.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
    };
    let start = cpu();
    let mut header = String::new();
    for _ in 0..rounds {
        header = room.issue("E1", "user:u1", 1, now);
    }
    let issue = (cpu() - start) / f64::from(rounds);
    let challenge: Challenge = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(&header)
            .expect("a challenge this room made"),
    )
    .expect("a challenge this room made");
    let solution = altcha::solve_challenge(altcha::SolveChallengeOptions::new(&challenge))
        .ok()
        .flatten()
        .expect("a level-1 challenge is solved");
    let payload = Payload {
        challenge,
        solution,
    };
    let answer = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("JSON"));
    let start = cpu();
    for _ in 0..rounds {
        let checked = room.check(&answer, "E1", "user:u1", now);
        assert!(checked.is_ok(), "the measured solution holds");
    }
    let check = (cpu() - start) / f64::from(rounds);
    (check, issue)
}

struct Data {
    event: String,
    who: String,
    expires_ms: u64,
}

fn signed_data(challenge: &Challenge) -> Option<Data> {
    let data = challenge.parameters.data.as_ref()?;
    Some(Data {
        event: data.get("e")?.as_str()?.to_owned(),
        who: data.get("w")?.as_str()?.to_owned(),
        expires_ms: data.get("x")?.as_u64()?,
    })
}

/// 16 bytes of SHA-256 of who a challenge is for, in hex: the challenge is public, the
/// user id in it need not be.
fn digest(who: &str) -> String {
    hex::encode(&Sha256::digest(who.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use altcha::{solve_challenge, SolveChallengeOptions};

    const NOW: u64 = 1_800_000_000_000;

    /// Solves a challenge header as a client would; the solution header.
    pub fn solve(header: &str) -> String {
        let challenge: Challenge =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        let solution = solve_challenge(SolveChallengeOptions::new(&challenge))
            .unwrap()
            .unwrap();
        let payload = Payload {
            challenge,
            solution,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap())
    }

    #[test]
    fn a_solution_holds_for_its_event_and_caller_until_it_expires() {
        let room = Challenger::new(b"root");
        let header = room.issue("E1", "user:u1", 1, NOW);
        let solution = solve(&header);
        assert!(room.check(&solution, "E1", "user:u1", NOW).is_ok());
        assert_eq!(
            room.check(&solution, "E2", "user:u1", NOW),
            Err(ChallengeRefusal::NotYours)
        );
        assert_eq!(
            room.check(&solution, "E1", "user:u2", NOW),
            Err(ChallengeRefusal::NotYours)
        );
        assert_eq!(
            room.check(&solution, "E1", "user:u1", NOW + LIFETIME_MS),
            Err(ChallengeRefusal::Expired)
        );
        // Another room's secret, or a changed challenge: not ours.
        let other = Challenger::new(b"other");
        assert_eq!(
            other.check(&solution, "E1", "user:u1", NOW),
            Err(ChallengeRefusal::Wrong)
        );
        assert_eq!(
            room.check("bm90IGpzb24", "E1", "user:u1", NOW),
            Err(ChallengeRefusal::Unreadable)
        );
        // A wrong key for a right challenge.
        let mut payload: Payload =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&solution).unwrap()).unwrap();
        payload.solution.derived_key = "00".repeat(32);
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        assert_eq!(
            room.check(&forged, "E1", "user:u1", NOW),
            Err(ChallengeRefusal::Wrong)
        );
    }

    #[test]
    fn a_time_lock_opens_on_time_for_its_event_only() {
        let room = Challenger::new(b"root");
        let lock = room.lock("E1", 2, NOW);
        let early = room.check_lock(&lock, "E1", NOW + 1_000).unwrap();
        assert_eq!(early.opens_in_ms, TIME_LOCK_S[2] * 1_000 - 1_000);
        let ready = room
            .check_lock(&lock, "E1", NOW + TIME_LOCK_S[2] * 1_000)
            .unwrap();
        assert_eq!(ready.opens_in_ms, 0);
        assert_eq!(
            room.check_lock(&lock, "E2", NOW + 5_000),
            Err(ChallengeRefusal::NotYours)
        );
        assert_eq!(
            room.check_lock(&lock, "E1", NOW + LIFETIME_MS),
            Err(ChallengeRefusal::Expired)
        );
        // A shorter lock cannot be made from a longer one: the level is signed.
        let (body, mac) = lock.rsplit_once('.').unwrap();
        let forged = format!("{}.{mac}", body.replacen(".2.", ".0.", 1));
        assert_eq!(
            room.check_lock(&forged, "E1", NOW),
            Err(ChallengeRefusal::NotYours)
        );
        assert!(room.check_lock("x", "E1", NOW).is_err());
    }

    #[test]
    fn levels_follow_pressure() {
        use ChallengeMode::*;
        assert_eq!(
            level(Auto, 0, 0, 0.0),
            0,
            "standby and short lines pay nothing"
        );
        assert_eq!(level(Auto, 0, 999, 10.0), 0);
        assert_eq!(level(Auto, 0, 5_000, 10.0), 1);
        assert_eq!(level(Auto, 0, 50_000, 10.0), 2);
        assert_eq!(
            level(Auto, 0, 10, 100.0),
            0,
            "the seed's 100 joins pay nothing"
        );
        assert_eq!(level(Auto, 0, 10, 2_000.0), 2);
        assert_eq!(level(Auto, 0, 10, 50_000.0), MAX_LEVEL);
        assert_eq!(level(Auto, 0, 5_000_000, 0.0), MAX_LEVEL);
        assert_eq!(level(Always, 0, 0, 0.0), 1);
        assert_eq!(level(Always, 0, 50_000, 0.0), 2);
        assert_eq!(level(Always, 3, 50_000, 0.0), 3, "the operator's floor");
        assert_eq!(level(Always, 9, 0, 0.0), MAX_LEVEL);
        assert_eq!(level(Auto, 3, 0, 0.0), 0, "a floor is for always only");
        assert_eq!(level(Off, 0, 5_000_000, 1e6), 0);
        let mut last = 0;
        for waiting in [0, 1_000, 10_000, 100_000, 1_000_000] {
            let l = level(Auto, 0, waiting, 0.0);
            assert!(l >= last);
            last = l;
        }
    }
}
