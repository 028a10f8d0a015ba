//! The join's proof-of-work in the visitor's browser (README, "Bots and accounts"): while
//! a challenge is in force, the line's page carries this island. Hydrated, it hands the
//! challenge to a Web Worker (`public/solver.js`, the browser's own SHA-256), shows the
//! search's progress (a progress bar; the status line is announced to screen readers when
//! the check starts and ends) and posts the join form with the solution; the page stays
//! responsive meanwhile. A lazy island: its code is a WASM file of its own that only a
//! page with a challenge loads. Without JavaScript it stays hidden and the page's
//! time-lock applies; where the worker cannot run, the island falls back to the time-lock
//! (it opens the page's refresh URL once the lock opens).

use leptos::html;
use leptos::prelude::*;

use crate::app::hydration_flag;

/// Where the search stands (moved on in the browser only).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Stage {
    Working,
    Done,
    /// The browser cannot run the check: the time-lock's wait instead.
    Waiting,
}

fn stage_text(stage: Stage, wait_seconds: u64) -> String {
    match stage {
        Stage::Working => {
            "Your browser is doing a short check to show it is not a bot. This takes a moment."
                .into()
        }
        Stage::Done => "Check done: joining the line…".into(),
        Stage::Waiting => format!(
            "Everyone waits {wait_seconds} second{} here before joining, to keep bots out. \
             This page comes back with the join button by itself.",
            if wait_seconds == 1 { "" } else { "s" }
        ),
    }
}

/// Solves `challenge` (its counter below `bound`) and joins `event` with the solution;
/// `again` is the time-lock's refresh URL, opened after `wait_seconds` if the browser
/// cannot solve.
#[allow(clippy::too_many_arguments)]
#[island(lazy)]
pub fn JoinSolver(
    event: String,
    return_to: String,
    lock: String,
    challenge: String,
    bound: u32,
    wait_seconds: u64,
    again: String,
    join_url: String,
) -> impl IntoView {
    let form = NodeRef::<html::Form>::new();
    let solution = NodeRef::<html::Input>::new();
    let stage = RwSignal::new(Stage::Working);
    let progress = RwSignal::new(0u32);
    let hydrated = hydration_flag();

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        browser::start(
            format!("{bound} {challenge}"),
            form,
            solution,
            stage,
            progress,
            wait_seconds,
            again.clone(),
        )
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (bound, challenge, again);

    view! {
        <div class="solver" data-hydrated=hydrated hidden=move || hydrated() == "false">
            <p role="status" data-testid="solver-status">{move || stage_text(stage.get(), wait_seconds)}</p>
            <progress
                max="100"
                value=move || progress.get()
                aria-label="The check's progress"
                hidden=move || stage.get() == Stage::Waiting
            ></progress>
            <form method="post" action=join_url node_ref=form>
                <input type="hidden" name="event_id" value=event/>
                <input type="hidden" name="return_to" value=return_to/>
                <input type="hidden" name="lock" value=lock/>
                <input type="hidden" name="solution" value="" node_ref=solution/>
            </form>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::html;
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use super::Stage;

    /// The worker's script (served from `public/`).
    const WORKER: &str = "/solver.js";

    pub fn start(
        task: String,
        form: NodeRef<html::Form>,
        solution: NodeRef<html::Input>,
        stage: RwSignal<Stage>,
        progress: RwSignal<u32>,
        wait_seconds: u64,
        again: String,
    ) {
        let fall_back = move || {
            stage.set(Stage::Waiting);
            let again = again.clone();
            set_timeout(
                move || {
                    let _ = window().location().set_href(&again);
                },
                std::time::Duration::from_secs(wait_seconds),
            );
        };
        let Ok(worker) = web_sys::Worker::new(WORKER) else {
            fall_back();
            return;
        };
        let keep = worker.clone();
        let fail = fall_back.clone();
        let answer = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |message: web_sys::MessageEvent| {
                let _ = &keep;
                let text = message.data().as_string().unwrap_or_default();
                if let Some(part) = text.strip_prefix("p:") {
                    let done: f64 = part.parse().unwrap_or(0.0);
                    progress.set((done * 100.0).round() as u32);
                } else if let Some(rest) = text.strip_prefix("s:") {
                    let found = rest.split_once(':').map(|(_, s)| s.to_owned());
                    match (found, form.get_untracked(), solution.get_untracked()) {
                        (Some(found), Some(form), Some(input)) => {
                            progress.set(100);
                            stage.set(Stage::Done);
                            input.set_value(&found);
                            let _ = form.submit();
                        }
                        _ => fail(),
                    }
                } else {
                    fail();
                }
            },
        );
        worker.set_onmessage(Some(answer.as_ref().unchecked_ref()));
        answer.forget();
        if worker.post_message(&task.into()).is_err() {
            fall_back();
        }
    }
}
