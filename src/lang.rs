//! The visitor's language: which one a request gets, which way it is written, and the
//! page's words in it.
//!
//! A request gets the language it asks for by `?lang=` (the page's language links, which
//! work without JavaScript and set the `vestibule_lang` cookie so it is remembered), else
//! the one in that cookie, else the best match of its `Accept-Language` (negotiated by
//! `fluent-langneg`), else English. The words are Project Fluent files in `locales/`,
//! compiled into the server by `fluent-templates`; plural forms follow each language's
//! CLDR rules, and numbers are grouped the language's way (`num-format`).
//!
//! Pages are rendered on the server only, so the browser's code carries no translations:
//! an island gets its words from the server with its data (the status card's
//! [`crate::domain::CardTexts`] come with every poll).

use serde::{Deserialize, Serialize};

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    De,
    Fr,
    Es,
    Ja,
    Ar,
}

impl Lang {
    /// Every language, in the order the language links show them.
    pub const ALL: [Lang; 6] = [Lang::En, Lang::De, Lang::Fr, Lang::Es, Lang::Ja, Lang::Ar];

    /// Its BCP 47 tag (`<html lang>`, `?lang=`, the cookie, `locales/<tag>/`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Ja => "ja",
            Lang::Ar => "ar",
        }
    }

    /// Its name in itself, for the language links.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
            Lang::Es => "Español",
            Lang::Ja => "日本語",
            Lang::Ar => "العربية",
        }
    }

    /// `rtl` for a language written right to left, else `ltr` (`<html dir>`).
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// A tag this room speaks, exactly (`de`, not `de-CH`: negotiation is for headers).
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// An argument of a message: a number (it picks the plural form) or a text.
pub enum Arg<'a> {
    Number(u64),
    Text(&'a str),
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(not(feature = "ssr"))]
pub use browser::*;

/// The browser's build: pages render on the server only, so none of this runs there (the
/// page components still compile into it, and are left out of the WASM as unused).
#[cfg(not(feature = "ssr"))]
mod browser {
    use super::{Arg, Lang};
    use crate::domain::{ClosedReason, SolverTexts};

    pub fn t(_: Lang, _: &str) -> String {
        String::new()
    }

    pub fn t_args(_: Lang, _: &str, _: &[(&'static str, Arg<'_>)]) -> String {
        String::new()
    }

    pub fn closed_text(_: Lang, _: ClosedReason) -> (String, String) {
        Default::default()
    }

    pub fn solver_texts(_: Lang, _: u64) -> SolverTexts {
        SolverTexts::default()
    }
}

#[cfg(feature = "ssr")]
mod server {
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::sync::LazyLock;

    use axum::http::{header, HeaderMap, HeaderValue};
    use fluent_templates::fluent_bundle::FluentValue;
    use fluent_templates::{LanguageIdentifier, Loader};

    use super::{Arg, Lang};
    use crate::domain::{
        CardTexts, ClosedReason, DrawnPlace, ErrorCode, SessionView, SolverTexts, Status, Word,
    };

    fluent_templates::static_loader! {
        static LOCALES = {
            locales: "./locales",
            fallback_language: "en",
            // No Unicode isolation marks around arguments: the numbers and ids they carry
            // sit in elements of their own, which the browser isolates itself.
            customise: |bundle| bundle.set_use_isolating(false),
        };
    }

    /// The cookie that remembers a language picked by its link.
    pub const LANG_COOKIE: &str = "vestibule_lang";

    /// The query parameter of the language links.
    pub const LANG_PARAM: &str = "lang";

    static IDS: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
        Lang::ALL
            .iter()
            .map(|l| l.code().parse().expect("a language tag"))
            .collect()
    });

    fn id(lang: Lang) -> &'static LanguageIdentifier {
        &IDS[Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
    }

    /// The best of this room's languages for an `Accept-Language` value (its q-values
    /// ordering the wishes; `de-CH` is served German), else English.
    pub fn negotiate(accept_language: &str) -> Lang {
        use fluent_langneg::{negotiate_languages, NegotiationStrategy};
        // The header's wishes, most wanted first (by q-value; as written among equals; a
        // q of 0 is "not this one"), then negotiated against ours.
        let mut wishes: Vec<(u16, &str)> = accept_language
            .split(',')
            .filter_map(|wish| {
                let mut parts = wish.split(';');
                let tag = parts.next()?.trim();
                let q =
                    parts
                        .find_map(|p| p.trim().strip_prefix("q="))
                        .map_or(Some(1_000), |q| {
                            q.trim()
                                .parse::<f32>()
                                .ok()
                                .map(|q| (q.clamp(0.0, 1.0) * 1_000.0) as u16)
                        })?;
                (!tag.is_empty() && q > 0).then_some((q, tag))
            })
            .collect();
        wishes.sort_by_key(|w| std::cmp::Reverse(w.0));
        let wanted = fluent_langneg::convert_vec_str_to_langids_lossy(wishes.iter().map(|w| w.1));
        let default = id(Lang::En);
        negotiate_languages(
            &wanted,
            IDS.as_slice(),
            Some(default),
            NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|found| Lang::parse(found.language.as_str()))
        .unwrap_or_default()
    }

    /// The language of a request: its `?lang=` (`query`, the raw query string), else its
    /// cookie, else its `Accept-Language`. With `?lang=`, also the cookie to remember it.
    pub fn of_request(headers: &HeaderMap, query: Option<&str>) -> (Lang, Option<HeaderValue>) {
        let asked = query.and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == LANG_PARAM)
                .and_then(|(_, v)| Lang::parse(v))
        });
        if let Some(lang) = asked {
            let secure = crate::visitor::is_https(headers);
            let cookie = crate::visitor::lang_cookie(LANG_COOKIE, lang.code(), secure);
            return (lang, Some(cookie));
        }
        if let Some(lang) = crate::visitor::cookie_value(headers, LANG_COOKIE).and_then(Lang::parse)
        {
            return (lang, None);
        }
        let accept = headers
            .get_all(header::ACCEPT_LANGUAGE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        (negotiate(&accept), None)
    }

    /// The message `key` in `lang`. Every key is in every language (a test says so); a key
    /// missing all the same would show English, never the key.
    pub fn t(lang: Lang, key: &str) -> String {
        t_args(lang, key, &[])
    }

    /// The message `key` in `lang`, with its arguments.
    pub fn t_args(lang: Lang, key: &str, args: &[(&'static str, Arg<'_>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Number(n) => FluentValue::from(*n),
                    Arg::Text(s) => FluentValue::from(s.to_string()),
                };
                (Cow::Borrowed(*name), value)
            })
            .collect();
        LOCALES
            .try_lookup_with_args(id(lang), key, &args)
            .or_else(|| LOCALES.try_lookup_with_args(id(Lang::En), key, &args))
            .unwrap_or_default()
    }

    /// A message with one argument placed in an element of its own: the words before and
    /// after `name`'s place (languages put it in different places).
    pub fn around(lang: Lang, key: &str, name: &'static str) -> (String, String) {
        const MARK: &str = "\u{E000}";
        let whole = t_args(lang, key, &[(name, Arg::Text(MARK))]);
        match whole.split_once(MARK) {
            Some((before, after)) => (before.to_string(), after.to_string()),
            None => (whole, String::new()),
        }
    }

    /// `n` grouped the language's way (`1,234`, `1.234`, `1 234`).
    pub fn number(lang: Lang, n: u64) -> String {
        use num_format::{Locale, ToFormattedString};
        let locale = match lang {
            Lang::En => Locale::en,
            Lang::De => Locale::de,
            Lang::Fr => Locale::fr,
            Lang::Es => Locale::es,
            Lang::Ja => Locale::ja,
            Lang::Ar => Locale::ar,
        };
        n.to_formatted_string(&locale)
    }

    /// The status card's words for `view`, in `lang`.
    /// The card's words that depend on the language alone (every poll sends them),
    /// formatted once per language.
    const FIXED: [&str; 11] = [
        "event-label",
        "card-status",
        "card-fairness",
        "card-pass-saved",
        "card-continue",
        "card-give-back",
        "card-leave",
        "card-join-again",
        "error-unreachable",
        "card-notify",
        "card-notify-on",
    ];

    struct Fixed {
        words: HashMap<(Lang, &'static str), String>,
        position: HashMap<Lang, (String, String)>,
        opens: HashMap<Lang, (String, String)>,
    }

    static FIXED_WORDS: LazyLock<Fixed> = LazyLock::new(|| Fixed {
        words: Lang::ALL
            .into_iter()
            .flat_map(|lang| {
                FIXED
                    .into_iter()
                    .map(move |key| ((lang, key), t(lang, key)))
            })
            .collect(),
        position: Lang::ALL
            .into_iter()
            .map(|lang| (lang, around(lang, "card-position", "number")))
            .collect(),
        opens: Lang::ALL
            .into_iter()
            .map(|lang| (lang, around(lang, "card-opens-in", "countdown")))
            .collect(),
    });

    /// [`t`] of a key in [`FIXED`], from memory.
    fn fixed(lang: Lang, key: &'static str) -> String {
        FIXED_WORDS
            .words
            .get(&(lang, key))
            .cloned()
            .unwrap_or_else(|| t(lang, key))
    }

    pub fn card_texts(lang: Lang, view: &SessionView) -> CardTexts {
        let (headline, detail) = describe(lang, view);
        let (position_before, position, position_after) = match view.position {
            Some(p) => {
                let (before, after) = FIXED_WORDS.position[&lang].clone();
                (before, number(lang, p), after)
            }
            None => Default::default(),
        };
        let (opens_before, opens_after) = FIXED_WORDS.opens[&lang].clone();
        CardTexts::new(|word| match word {
            Word::Event => fixed(lang, "event-label"),
            Word::Headline => headline.clone(),
            Word::Detail => detail.clone(),
            Word::Status => fixed(lang, "card-status"),
            Word::PositionBefore => position_before.clone(),
            Word::Position => position.clone(),
            Word::PositionAfter => position_after.clone(),
            Word::OpensBefore => opens_before.clone(),
            Word::OpensAfter => opens_after.clone(),
            Word::Fairness => fixed(lang, "card-fairness"),
            Word::PassSaved => fixed(lang, "card-pass-saved"),
            Word::Continue => fixed(lang, "card-continue"),
            Word::Leave => {
                if view.status == Status::Active {
                    fixed(lang, "card-give-back")
                } else {
                    fixed(lang, "card-leave")
                }
            }
            Word::JoinAgain => fixed(lang, "card-join-again"),
            Word::Unreachable => fixed(lang, "error-unreachable"),
            Word::Notify => fixed(lang, "card-notify"),
            Word::NotifyOn => fixed(lang, "card-notify-on"),
            Word::Sound => fixed(lang, "card-sound"),
            Word::SoundOn => fixed(lang, "card-sound-on"),
            Word::JoinNumber => match view.join_number {
                Some(n) => t_args(
                    lang,
                    "card-join-number",
                    &[("number", Arg::Text(&number(lang, n)))],
                ),
                None => String::new(),
            },
            Word::DrawNote => match view.draw {
                Some(DrawnPlace {
                    rank: Some(rank), ..
                }) => t_args(
                    lang,
                    "card-draw",
                    &[("rank", Arg::Text(&number(lang, rank)))],
                ),
                Some(_) => t(lang, "card-draw-unranked"),
                None => String::new(),
            },
            Word::DrawLink => match view.draw {
                Some(d) => t_args(lang, "card-draw-link", &[("round", Arg::Number(d.round))]),
                None => String::new(),
            },
            Word::Message => match (&view.message, &view.message_translations) {
                (Some(text), translations) => translations
                    .as_ref()
                    .and_then(|t| t.get(lang.code()))
                    .unwrap_or(text)
                    .clone(),
                (None, _) => String::new(),
            },
            Word::DrawUrl => match view.draw {
                Some(_) => format!("/api/waiting-room/events/{}/draw", view.event_id),
                None => String::new(),
            },
        })
    }

    /// Headline and one line of detail for a status.
    fn describe(lang: Lang, view: &SessionView) -> (String, String) {
        let pair = |a, b| (t(lang, a), t(lang, b));
        match view.status {
            Status::Waiting if view.suspended => pair("status-paused", "status-paused-detail"),
            Status::Waiting if view.grace.is_some_and(|g| g.returned) => {
                pair("status-returned", "status-returned-detail")
            }
            Status::Waiting if view.pre_queue && view.position.is_none() => {
                (t(lang, "status-pre-queue"), String::new())
            }
            Status::Waiting => {
                let detail = match view.estimated_wait_seconds {
                    Some(s) if view.wait_time_known => {
                        let wait = wait(lang, s);
                        t_args(lang, "wait-estimate", &[("wait", Arg::Text(&wait))])
                    }
                    _ => t(lang, "wait-unknown"),
                };
                (t(lang, "status-waiting"), detail)
            }
            Status::Active => pair("status-active", "status-active-detail"),
            Status::Expired => pair("status-expired", "status-expired-detail"),
            Status::Left => pair("status-left", "status-left-detail"),
            Status::Abandoned => pair("status-abandoned", "status-abandoned-detail"),
            Status::Closed => closed_text(lang, view.closed_reason.unwrap_or(ClosedReason::Closed)),
            Status::Moved => pair("status-moved", "status-moved-detail"),
        }
    }

    /// A wait, roughly: under a minute, in minutes, or in hours.
    fn wait(lang: Lang, seconds: u64) -> String {
        match seconds {
            0..=59 => t(lang, "wait-under-minute"),
            60..=5_399 => t_args(
                lang,
                "wait-minutes",
                &[("minutes", Arg::Number(seconds.div_ceil(60)))],
            ),
            _ => t_args(
                lang,
                "wait-hours",
                &[("hours", Arg::Number(seconds.div_ceil(3_600)))],
            ),
        }
    }

    /// What a visitor reads when a sale is over.
    pub fn closed_text(lang: Lang, reason: ClosedReason) -> (String, String) {
        let pair = |a, b| (t(lang, a), t(lang, b));
        match reason {
            ClosedReason::SoldOut => pair("closed-sold-out", "closed-sold-out-detail"),
            ClosedReason::Closed => pair("closed-closed", "closed-closed-detail"),
            ClosedReason::Ended => pair("closed-ended", "closed-ended-detail"),
        }
    }

    /// The proof-of-work island's words.
    pub fn solver_texts(lang: Lang, wait_seconds: u64) -> SolverTexts {
        SolverTexts {
            working: t(lang, "solver-working"),
            done: t(lang, "solver-done"),
            waiting: t_args(
                lang,
                "event-lock-lede",
                &[("seconds", Arg::Number(wait_seconds))],
            ),
            progress: t(lang, "solver-progress"),
        }
    }

    /// A failure as a visitor reads it: in English the room's own (precise) message; in
    /// another language the translation of its code, or the English message when the code
    /// is not one a visitor meets.
    pub fn error_message(lang: Lang, code: ErrorCode, english: &str) -> String {
        if lang == Lang::En {
            return english.to_string();
        }
        LOCALES
            .try_lookup(id(lang), &format!("error-{}", code.as_str()))
            .unwrap_or_else(|| english.to_string())
    }

    /// Every message id of a language's files (for the test that they all agree).
    #[cfg(test)]
    fn ids_of(lang: Lang) -> std::collections::BTreeSet<String> {
        use fluent_templates::fluent_bundle::FluentResource;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang.code());
        let mut ids = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let resource = FluentResource::try_new(text)
                .unwrap_or_else(|(_, e)| panic!("{}: {e:?}", lang.code()));
            for item in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = item {
                    ids.insert(m.id.name.to_string());
                }
            }
        }
        ids
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_language_has_every_message_and_nothing_else() {
            let english = ids_of(Lang::En);
            assert!(english.len() > 40, "{}", english.len());
            for lang in Lang::ALL {
                let ids = ids_of(lang);
                let missing: Vec<_> = english.difference(&ids).collect();
                let extra: Vec<_> = ids.difference(&english).collect();
                assert!(missing.is_empty(), "{}: missing {missing:?}", lang.code());
                assert!(
                    extra.is_empty(),
                    "{}: not in English {extra:?}",
                    lang.code()
                );
                // And each renders, with its arguments, to words (not to nothing).
                for key in &ids {
                    let text = t_args(
                        lang,
                        key,
                        &[
                            ("seconds", Arg::Number(3)),
                            ("minutes", Arg::Number(3)),
                            ("hours", Arg::Number(3)),
                            ("number", Arg::Text("7")),
                            ("countdown", Arg::Text("1:00")),
                            ("wait", Arg::Text("3")),
                            ("rank", Arg::Text("2")),
                            ("round", Arg::Number(1)),
                            ("event", Arg::Text("E1")),
                        ],
                    );
                    assert!(!text.trim().is_empty(), "{}: {key}", lang.code());
                    assert!(!text.contains('{'), "{}: {key}: {text}", lang.code());
                }
            }
        }

        #[test]
        fn every_key_the_code_asks_for_is_in_english() {
            // The keys passed to t/t_args/around/fixed as string literals, anywhere in src/.
            let english = ids_of(Lang::En);
            let mut asked = Vec::new();
            let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let text = std::fs::read_to_string(&path).unwrap();
                    for call in [
                        "t(lang, \"",
                        "t_args(lang, \"",
                        "around(lang, \"",
                        "fixed(lang, \"",
                    ] {
                        for (at, _) in text.match_indices(call) {
                            let rest = &text[at + call.len()..];
                            let key = &rest[..rest.find('"').unwrap()];
                            asked.push((path.display().to_string(), key.to_string()));
                        }
                    }
                }
            }
            assert!(asked.len() > 30, "{}", asked.len());
            let unknown: Vec<_> = asked.iter().filter(|(_, k)| !english.contains(k)).collect();
            assert!(unknown.is_empty(), "keys not in locales/en: {unknown:?}");
        }

        #[test]
        fn a_header_gets_the_best_language_it_accepts() {
            assert_eq!(negotiate("de-CH,de;q=0.9,en;q=0.8"), Lang::De);
            assert_eq!(negotiate("ar-EG"), Lang::Ar);
            assert_eq!(negotiate("fr;q=0.5, ja;q=0.9"), Lang::Ja);
            assert_eq!(negotiate("pt-BR, es;q=0.4"), Lang::Es);
            assert_eq!(negotiate("pt-BR"), Lang::En);
            assert_eq!(negotiate(""), Lang::En);
            assert_eq!(negotiate("*"), Lang::En);
            assert_eq!(negotiate(";;,q=,de"), Lang::De);
            assert_eq!(negotiate("de;q=0, fr;q=0.1"), Lang::Fr);
            assert_eq!(negotiate("es;q=0.8, de;q=0.8"), Lang::Es);
        }

        #[test]
        fn the_link_beats_the_cookie_which_beats_the_header() {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, "fr".parse().unwrap());
            assert_eq!(of_request(&headers, None).0, Lang::Fr);
            headers.insert(header::COOKIE, "vestibule_lang=ja".parse().unwrap());
            assert_eq!(of_request(&headers, None), (Lang::Ja, None));
            let (lang, cookie) = of_request(&headers, Some("return=x&lang=AR"));
            assert_eq!(lang, Lang::Ar);
            let cookie = cookie.unwrap();
            let cookie = cookie.to_str().unwrap();
            assert!(cookie.starts_with("vestibule_lang=ar;"), "{cookie}");
            for part in ["Path=/", "SameSite=Lax", "HttpOnly", "Max-Age=31536000"] {
                assert!(cookie.contains(part), "{cookie}");
            }
            assert!(!cookie.contains("Secure"), "{cookie}");
            // A language it does not speak changes nothing.
            assert_eq!(of_request(&headers, Some("lang=xx")), (Lang::Ja, None));
        }

        #[test]
        fn plural_forms_follow_each_language() {
            let secs = |lang, n| t_args(lang, "event-lock-lede", &[("seconds", Arg::Number(n))]);
            assert!(
                secs(Lang::En, 1).contains("1 second "),
                "{}",
                secs(Lang::En, 1)
            );
            assert!(secs(Lang::En, 2).contains("2 seconds"));
            assert!(
                secs(Lang::De, 1).contains("1 Sekunde,"),
                "{}",
                secs(Lang::De, 1)
            );
            assert!(secs(Lang::De, 5).contains("5 Sekunden"));
            // French: 0 and 1 are singular.
            let fr = |n| t_args(Lang::Fr, "wait-minutes", &[("minutes", Arg::Number(n))]);
            assert!(
                fr(1).contains("minute") && !fr(1).contains("minutes"),
                "{}",
                fr(1)
            );
            assert!(fr(2).contains("minutes"));
            // Arabic: one, two, few (3–10), many (11–99) and other differ.
            let ar = |n| t_args(Lang::Ar, "wait-minutes", &[("minutes", Arg::Number(n))]);
            // (Digits made one, so that only the words can differ.)
            let forms: std::collections::BTreeSet<String> = [1, 2, 3, 11, 100]
                .into_iter()
                .map(|n| ar(n).replace(&n.to_string(), "N"))
                .collect();
            assert_eq!(forms.len(), 4, "{forms:?}");
            assert!(ar(2).contains("دقيقتين"), "{}", ar(2));
            assert!(ar(3).contains("دقائق"), "{}", ar(3));
            assert_eq!(ar(11).replace("11", "9"), ar(100).replace("100", "9"));
            // Japanese: one form.
            let ja = |n| t_args(Lang::Ja, "wait-minutes", &[("minutes", Arg::Number(n))]);
            assert_eq!(ja(1).replace('1', "N"), ja(2).replace('2', "N"));
        }

        #[test]
        fn numbers_are_grouped_the_languages_way() {
            assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
            assert_eq!(number(Lang::De, 1_234_567), "1.234.567");
            assert_eq!(number(Lang::Ja, 1_234), "1,234");
            assert_ne!(number(Lang::Fr, 1_234), "1,234");
            assert_eq!(number(Lang::En, 7), "7");
        }

        #[test]
        fn an_argument_in_its_own_element_is_placed_where_the_language_puts_it() {
            let (before, after) = around(Lang::En, "card-position", "number");
            assert_eq!((before.as_str(), after.as_str()), ("Number ", " in line"));
            let (before, after) = around(Lang::Ja, "card-position", "number");
            assert!(!before.is_empty() && !after.is_empty(), "{before}|{after}");
        }
    }
}
