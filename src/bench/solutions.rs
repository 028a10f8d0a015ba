//! For `./bench.sh`: solved challenges for a load of joins with `challenge: always` (the
//! load generator's precomputed solutions; README, "Bots and accounts").
//!
//! `solutions URL PREFIX N OUT` asks the room at URL for N challenges, one per user of the
//! events `PREFIX-0` … `PREFIX-49` (a JSON join without a solution answers
//! `428 challenge_required` with one), solves them on every core with the `altcha` crate,
//! and writes one `event user solution` line per join to OUT. It prints the hashes tried
//! per second.

use std::io::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures::StreamExt as _;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, prefix, n, out] = &args[..] else {
        panic!("usage: solutions URL PREFIX N OUT");
    };
    let n: usize = n.parse().expect("N joins");
    let run = std::process::id();
    let http = reqwest::Client::new();
    let asked: Vec<(String, String, String)> = futures::stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let (event, user) = (format!("{prefix}-{}", i % 50), format!("p{run}-{i}"));
            async move {
                let res = http
                    .post(format!("{url}/api/waiting-room/sessions"))
                    .json(&serde_json::json!({ "eventId": event, "userId": user }))
                    .send()
                    .await
                    .expect("the room answers");
                assert_eq!(res.status().as_u16(), 428, "a join must pay");
                let challenge = res.headers()["vestibule-challenge"]
                    .to_str()
                    .expect("a header")
                    .to_owned();
                (event, user, challenge)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let started = std::time::Instant::now();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = asked.len().div_ceil(cores);
    let solved: Vec<(String, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = asked
            .chunks(chunk.max(1))
            .map(|part| s.spawn(move || part.iter().map(solve).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a solver thread"))
            .collect()
    });
    let hashes: u64 = solved.iter().map(|(_, h)| h).sum();
    let seconds = started.elapsed().as_secs_f64();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).expect("OUT"));
    for ((event, user, _), (solution, _)) in asked.iter().zip(&solved) {
        writeln!(file, "{event} {user} {solution}").expect("written");
    }
    file.flush().expect("written");
    println!(
        "solved {} challenges in {seconds:.1} s ({:.1} M hashes/s on {cores} cores)",
        solved.len(),
        hashes as f64 / seconds / 1e6
    );
}

/// The `Vestibule-Solution` of one challenge, and the hashes it took.
fn solve((_, _, header): &(String, String, String)) -> (String, u64) {
    let challenge: altcha::Challenge =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
            .expect("a challenge");
    let solution = altcha::solve_challenge(altcha::SolveChallengeOptions::new(&challenge))
        .expect("solvable")
        .expect("solved");
    let hashes = u64::from(solution.counter) + 1;
    let payload = altcha::Payload {
        challenge,
        solution,
    };
    (
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("JSON")),
        hashes,
    )
}
