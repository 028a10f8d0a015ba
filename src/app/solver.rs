//! The join's proof-of-work in the visitor's browser (README, "Bots and accounts"): while
//! a challenge is in force, the line's page carries this island. Hydrated, it searches for
//! the challenge's counter in WASM (the `sha2` crate) in slices of a few milliseconds, so
//! the page stays responsive, shows the search's progress (a progress bar; the status line
//! is announced to screen readers when the check starts and ends) and posts the join form
//! with what it found. A lazy island: its code is a WASM file of its own that only a page
//! with a challenge loads. Without JavaScript it stays hidden and the page's time-lock
//! applies; if the search fails, the island falls back to the time-lock (it opens the
//! page's refresh URL once the lock opens).

use leptos::html;
use leptos::prelude::*;

use crate::app::hydration_flag;
use crate::domain::{PageChallenge, SolverTexts};

/// Where the search stands (moved on in the browser only).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Stage {
    Working,
    Done,
    /// The search failed: the time-lock's wait instead.
    Waiting,
}

/// What the status line says at `stage`, in the visitor's language.
fn stage_text(stage: Stage, texts: &SolverTexts) -> String {
    match stage {
        Stage::Working => texts.working.clone(),
        Stage::Done => texts.done.clone(),
        Stage::Waiting => texts.waiting.clone(),
    }
}

/// Solves `challenge` and joins `event` with it; `again` is the time-lock's refresh URL,
/// opened after `wait_seconds` if the search fails; `texts`: its words, in the visitor's
/// language.
#[island(lazy)]
pub fn JoinSolver(
    event: String,
    return_to: String,
    lock: String,
    challenge: PageChallenge,
    wait_seconds: u64,
    texts: SolverTexts,
    again: String,
    join_url: String,
) -> impl IntoView {
    let form = NodeRef::<html::Form>::new();
    let counter = NodeRef::<html::Input>::new();
    let key = NodeRef::<html::Input>::new();
    let stage = RwSignal::new(Stage::Working);
    let progress = RwSignal::new(0u32);
    let hydrated = hydration_flag();
    let header = challenge.header.clone();
    let progress_label = texts.progress.clone();

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let again = again.clone();
        let found = move |answer: Option<(u32, String)>| match (
            answer,
            form.get_untracked(),
            counter.get_untracked(),
            key.get_untracked(),
        ) {
            (Some((n, k)), Some(form), Some(counter), Some(key)) => {
                progress.set(100);
                stage.set(Stage::Done);
                counter.set_value(&n.to_string());
                key.set_value(&k);
                let _ = form.submit();
            }
            _ => {
                stage.set(Stage::Waiting);
                let again = again.clone();
                set_timeout(
                    move || {
                        let _ = window().location().set_href(&again);
                    },
                    std::time::Duration::from_secs(wait_seconds),
                );
            }
        };
        match search::Search::new(&challenge) {
            Some(search) => search::run(search, progress, found),
            None => found(None),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (challenge, again, wait_seconds);

    view! {
        <div class="solver" data-hydrated=hydrated hidden=move || hydrated() == "false">
            <p role="status" data-testid="solver-status">{move || stage_text(stage.get(), &texts)}</p>
            <progress
                max="100"
                value=move || progress.get()
                aria-label=progress_label
                hidden=move || stage.get() == Stage::Waiting
            ></progress>
            <form method="post" action=join_url node_ref=form>
                <input type="hidden" name="event_id" value=event/>
                <input type="hidden" name="return_to" value=return_to/>
                <input type="hidden" name="lock" value=lock/>
                <input type="hidden" name="challenge" value=header/>
                <input type="hidden" name="counter" value="" node_ref=counter/>
                <input type="hidden" name="key" value="" node_ref=key/>
            </form>
        </div>
    }
}

/// The search (ALTCHA v2, SHA-256, as `crate::challenge` makes it), in slices.
#[cfg(feature = "hydrate")]
mod search {
    use std::time::Duration;

    use leptos::prelude::*;
    use sha2::{Digest, Sha256};

    use crate::domain::PageChallenge;

    /// How long one slice of the search may hold the page's thread.
    const SLICE_MS: f64 = 12.0;

    pub struct Search {
        /// salt ‖ nonce ‖ the counter's 4 bytes.
        input: Vec<u8>,
        prefix: Vec<u8>,
        next: u32,
        bound: u32,
    }

    impl Search {
        pub fn new(challenge: &PageChallenge) -> Option<Self> {
            let mut input = hex::decode(&challenge.salt).ok()?;
            input.extend(hex::decode(&challenge.nonce).ok()?);
            input.extend([0; 4]);
            let prefix = hex::decode(&challenge.key_prefix).ok()?;
            Some(Self {
                input,
                prefix,
                next: 0,
                bound: challenge.bound,
            })
        }

        /// Tries counters until `deadline` (ms on the page's clock): the counter and its
        /// key when found.
        fn slice(&mut self, clock: &web_sys::Performance, deadline: f64) -> Option<(u32, String)> {
            let at = self.input.len() - 4;
            while self.next < self.bound {
                for _ in 0..1_024 {
                    self.input[at..].copy_from_slice(&self.next.to_be_bytes());
                    let key = Sha256::digest(&self.input);
                    if key.starts_with(&self.prefix) {
                        return Some((self.next, hex::encode(key)));
                    }
                    self.next += 1;
                    if self.next == self.bound {
                        return None;
                    }
                }
                if clock.now() > deadline {
                    return None;
                }
            }
            None
        }
    }

    /// Runs `search` a slice at a time, yielding to the page between slices; `found` gets
    /// the answer (`None`: no counter below the bound, or no clock).
    pub fn run(
        mut search: Search,
        progress: RwSignal<u32>,
        found: impl Fn(Option<(u32, String)>) + Clone + 'static,
    ) {
        let Some(clock) = window().performance() else {
            return found(None);
        };
        let deadline = clock.now() + SLICE_MS;
        if let Some(answer) = search.slice(&clock, deadline) {
            return found(Some(answer));
        }
        if search.next >= search.bound {
            return found(None);
        }
        progress.set((u64::from(search.next) * 100 / u64::from(search.bound)) as u32);
        set_timeout(move || run(search, progress, found), Duration::ZERO);
    }
}
