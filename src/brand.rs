//! The shop's brand on its line's pages (README, "The shop's brand"): a display name, a
//! logo, an accent colour, a background colour and a short text in limited Markdown, set
//! per event by the operator (`PUT /api/admin/events/{id}/brand`, or the console).
//!
//! Nothing an operator types reaches a page unchecked: colours are `#rgb`/`#rrggbb` only
//! and reach the page through a stylesheet the room writes (`/brand/{event}.css`: the
//! page's `style-src 'self'` stays as it is); the logo is an `https` URL whose origin alone
//! is added to that page's `img-src`; the name is text; the Markdown is rendered here,
//! raw HTML refused, and the result sanitised (`ammonia`: paragraphs, emphasis, lists,
//! `https` links) before it is put in the page.
//!
//! Contrast (WCAG 2.x, AA: 4.5:1 for text): an accent that is not readable as text on the
//! page's white card is refused, with its ratio; the text drawn on the background (the
//! masthead) and on the accent (buttons) is black or white, whichever contrasts more
//! (at least 4.58:1 for any colour), and the answer says which was chosen.

use serde::{Deserialize, Serialize};

use crate::domain::{BrandContrast, BrandFigures, ErrorCode, InvalidInput};

/// The most characters of a display name.
pub const MAX_NAME_CHARS: usize = 60;
/// The most characters of a logo's URL.
pub const MAX_URL_CHARS: usize = 512;
/// The most characters of the text block (Markdown).
pub const MAX_TEXT_CHARS: usize = 1_000;
/// WCAG 2.x AA contrast for text.
pub const AA_TEXT: f64 = 4.5;
/// The card the page's text sits on (`--card` of a branded page).
const CARD: Colour = Colour(0xff, 0xff, 0xff);
const BLACK: Colour = Colour(0, 0, 0);
const WHITE: Colour = Colour(0xff, 0xff, 0xff);

/// A colour, from `#rgb` or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Colour {
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).ok();
        let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        match hex.len() {
            3 => Some(Self(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 => Some(Self(pair(0)?, pair(2)?, pair(4)?)),
            _ => None,
        }
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance (WCAG 2.x).
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// The contrast ratio of two colours (1 to 21).
    pub fn contrast(self, other: Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever is more readable on this colour.
    pub fn readable_text(self) -> Colour {
        if self.contrast(BLACK) >= self.contrast(WHITE) {
            BLACK
        } else {
            WHITE
        }
    }
}

/// A ratio rounded to a tenth, as people read it ("4.6:1").
fn tenth(ratio: f64) -> f64 {
    (ratio * 10.0).floor() / 10.0
}

/// An event's brand as stored (the meta's `brand`, JSON): only checked values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn invalid(message: String) -> InvalidInput {
    InvalidInput {
        code: ErrorCode::InvalidBrand,
        message,
    }
}

impl Brand {
    /// A brand from what an operator gave (each field optional; empty means none).
    pub fn parse(
        display_name: Option<&str>,
        logo_url: Option<&str>,
        accent_color: Option<&str>,
        background_color: Option<&str>,
        text: Option<&str>,
    ) -> Result<Self, InvalidInput> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let display_name = given(display_name)
            .map(|name| {
                let ok =
                    name.chars().count() <= MAX_NAME_CHARS && !name.chars().any(char::is_control);
                ok.then(|| name.to_owned()).ok_or_else(|| {
                    invalid(format!(
                        "displayName: 1 to {MAX_NAME_CHARS} characters on one line"
                    ))
                })
            })
            .transpose()?;
        let logo_url = given(logo_url).map(logo).transpose()?;
        let colour = |field: &str, v: Option<&str>| {
            given(v)
                .map(|v| {
                    Colour::parse(v).ok_or_else(|| {
                        invalid(format!(
                            "{field}: a colour as #rgb or #rrggbb (like #1a7f37), not {v:?}"
                        ))
                    })
                })
                .transpose()
        };
        let accent = colour("accentColor", accent_color)?;
        let background = colour("backgroundColor", background_color)?;
        if let Some(accent) = accent {
            let ratio = accent.contrast(CARD);
            if ratio < AA_TEXT {
                return Err(invalid(format!(
                    "accentColor: {} on the page's white card has a contrast of {:.1}:1, \
                     below the {AA_TEXT}:1 that WCAG AA asks of text (links and buttons \
                     are drawn in it): choose a darker accent",
                    accent.hex(),
                    tenth(ratio)
                )));
            }
        }
        let text = given(text).map(markdown_text).transpose()?;
        Ok(Self {
            display_name,
            logo_url,
            accent_color: accent.map(Colour::hex),
            background_color: background.map(Colour::hex),
            text,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn accent(&self) -> Option<Colour> {
        self.accent_color.as_deref().and_then(Colour::parse)
    }

    pub fn background(&self) -> Option<Colour> {
        self.background_color.as_deref().and_then(Colour::parse)
    }

    /// The origin of the logo (`https://host[:port]`): the only one the page's `img-src`
    /// adds.
    pub fn logo_origin(&self) -> Option<String> {
        let url = url::Url::parse(self.logo_url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }

    /// The stylesheet of the brand's pages (`/brand/{event}.css`): only parsed colours.
    pub fn css(&self) -> String {
        let mut css = String::from(
            ":root { --card: #ffffff; --fg: #1d1d1f; --muted: #5f6368; color-scheme: light; }\n",
        );
        if let Some(bg) = self.background() {
            let on = bg.readable_text().hex();
            css.push_str(&format!(
                ":root {{ --bg: {}; }}\n.masthead, .masthead .brand, .masthead .tagline, .langs a, .shop-name, .place-live > .error, .move-place a {{ color: {on}; }}\n\
                 .place-live > button.secondary {{ background: var(--card); }}\n",
                bg.hex()
            ));
        }
        if let Some(accent) = self.accent() {
            let on = accent.readable_text().hex();
            css.push_str(&format!(
                ":root {{ --accent: {}; }}\nbutton, a.button {{ color: {on}; }}\nbutton.secondary {{ color: var(--accent); }}\n",
                accent.hex()
            ));
        }
        css
    }

    /// The text block as sanitised HTML.
    pub fn text_html(&self) -> Option<String> {
        self.text.as_deref().map(render_markdown)
    }

    /// What the admin API and the console show: the brand, and the text colours the room
    /// chose for contrast.
    pub fn figures(&self) -> BrandFigures {
        let background = self.background();
        let accent = self.accent();
        BrandFigures {
            display_name: self.display_name.clone(),
            logo_url: self.logo_url.clone(),
            accent_color: self.accent_color.clone(),
            background_color: self.background_color.clone(),
            text: self.text.clone(),
            contrast: BrandContrast {
                accent_on_card: accent.map(|a| tenth(a.contrast(CARD))),
                on_background: background.map(|b| b.readable_text().hex()),
                on_background_ratio: background.map(|b| tenth(b.contrast(b.readable_text()))),
                on_accent: accent.map(|a| a.readable_text().hex()),
                on_accent_ratio: accent.map(|a| tenth(a.contrast(a.readable_text()))),
            },
        }
    }
}

fn logo(url: &str) -> Result<String, InvalidInput> {
    let refuse = || {
        invalid(format!(
            "logoUrl: an https URL of at most {MAX_URL_CHARS} characters, without user or password"
        ))
    };
    // Written as it will be used: no spaces, quotes or angle brackets for a parser to
    // mend.
    if url.chars().count() > MAX_URL_CHARS
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`\\".contains(c))
    {
        return Err(refuse());
    }
    let parsed = url::Url::parse(url).map_err(|_| refuse())?;
    if parsed.scheme() != "https"
        || parsed.host_str().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(refuse());
    }
    Ok(parsed.to_string())
}

fn markdown_text(text: &str) -> Result<String, InvalidInput> {
    use pulldown_cmark::{Event, Parser};
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "text: at most {MAX_TEXT_CHARS} characters of Markdown"
        )));
    }
    if Parser::new(text).any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))) {
        return Err(invalid(
            "text: Markdown only (emphasis, links, lists); HTML is not allowed".into(),
        ));
    }
    Ok(text.to_owned())
}

/// Markdown to HTML, then sanitised: what it may hold is listed here, whatever the parser
/// made (links only to `https`, opened without the page as their opener or referrer).
fn render_markdown(text: &str) -> String {
    use std::collections::HashSet;
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(text));
    ammonia::Builder::empty()
        .tags(HashSet::from([
            "p", "em", "strong", "a", "ul", "ol", "li", "br", "code",
        ]))
        .tag_attributes(std::collections::HashMap::from([(
            "a",
            HashSet::from(["href"]),
        )]))
        .url_schemes(HashSet::from(["https"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .clean(&html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        // The extremes and well-known pairs (WebAIM's checker agrees to a tenth).
        assert!((BLACK.contrast(WHITE) - 21.0).abs() < 1e-9);
        assert!((WHITE.contrast(WHITE) - 1.0).abs() < 1e-9);
        let ratio = |a: &str, b: &str| {
            tenth(
                Colour::parse(a)
                    .unwrap()
                    .contrast(Colour::parse(b).unwrap()),
            )
        };
        assert_eq!(ratio("#767676", "#ffffff"), 4.5);
        assert_eq!(ratio("#777777", "#ffffff"), 4.4);
        assert_eq!(ratio("#0000ff", "#ffffff"), 8.5);
        assert_eq!(ratio("#ffff00", "#ffffff"), 1.0);
        assert_eq!(ratio("#3b5bdb", "#fff"), ratio("#3b5bdb", "#ffffff"));
        // Black or white: whichever reads better, and at least 4.5:1 on any colour.
        assert_eq!(Colour::parse("#ffcc00").unwrap().readable_text(), BLACK);
        assert_eq!(Colour::parse("#1a1a40").unwrap().readable_text(), WHITE);
        for grey in 0..=255u8 {
            for c in [
                Colour(grey, grey, grey),
                Colour(grey, 0, 255 - grey),
                Colour(0, grey, 0),
            ] {
                assert!(c.contrast(c.readable_text()) >= AA_TEXT, "{}", c.hex());
            }
        }
    }

    #[test]
    fn an_accent_unreadable_on_the_card_is_refused_with_its_ratio() {
        let e = Brand::parse(None, None, Some("#ffcc00"), None, None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidBrand);
        assert!(
            e.message.contains("#ffcc00") && e.message.contains("1.5:1"),
            "{}",
            e.message
        );
        let ok = Brand::parse(None, None, Some("#1A7F37"), Some("#FC0"), None).unwrap();
        assert_eq!(ok.accent_color.as_deref(), Some("#1a7f37"));
        assert_eq!(ok.background_color.as_deref(), Some("#ffcc00"));
        let figures = ok.figures();
        assert_eq!(figures.contrast.on_background.as_deref(), Some("#000000"));
        assert_eq!(figures.contrast.on_accent.as_deref(), Some("#ffffff"));
        assert!(figures.contrast.accent_on_card.unwrap() >= AA_TEXT);
    }

    #[test]
    fn hostile_values_are_refused() {
        let refused =
            |name: Option<&str>, logo: Option<&str>, colour: Option<&str>, text: Option<&str>| {
                Brand::parse(name, logo, colour, None, text)
                    .unwrap_err()
                    .code
            };
        for colour in [
            "red",
            "#12345",
            "#1234567",
            "#ggg",
            "#fff;}body{x:y",
            "url(x)",
        ] {
            assert_eq!(
                refused(None, None, Some(colour), None),
                ErrorCode::InvalidBrand,
                "{colour}"
            );
        }
        for logo in [
            "javascript:alert(1)",
            "http://shop.example/logo.png",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "https://user:pw@shop.example/logo.png",
            "//shop.example/logo.png",
            "/logo.png",
            "https://shop.example/x' https://evil.example",
            "https://shop.example/\"onerror=\"alert(1)",
        ] {
            assert_eq!(
                refused(None, Some(logo), None, None),
                ErrorCode::InvalidBrand,
                "{logo}"
            );
        }
        assert_eq!(
            refused(Some("a\u{7}b"), None, None, None),
            ErrorCode::InvalidBrand
        );
        assert_eq!(
            refused(Some(&"x".repeat(61)), None, None, None),
            ErrorCode::InvalidBrand
        );
        for text in [
            "<script>alert(1)</script>",
            "hello <img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            assert_eq!(
                refused(None, None, None, Some(text)),
                ErrorCode::InvalidBrand,
                "{text}"
            );
        }
        assert_eq!(
            refused(None, None, None, Some(&"x".repeat(1_001))),
            ErrorCode::InvalidBrand
        );
    }

    #[test]
    fn markdown_renders_to_a_short_list_of_tags_and_https_links() {
        let brand = Brand::parse(
            None,
            None,
            None,
            None,
            Some("**Doors** at *19:00*.\n\n- [Seat map](https://shop.example/map)\n- [x](javascript:alert(1))\n- [y](/relative)\n\n![i](https://shop.example/i.png)"),
        )
        .unwrap();
        let html = brand.text_html().unwrap();
        assert!(html.contains("<strong>Doors</strong>"), "{html}");
        assert!(html.contains("<em>19:00</em>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://shop.example/map" rel="noopener noreferrer">Seat map</a>"#
            ),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(!html.contains("/relative"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn the_stylesheet_and_the_image_origin_hold_only_checked_values() {
        let brand = Brand::parse(
            Some("Arena"),
            Some("https://cdn.shop.example:8443/img/logo.svg?v=2"),
            Some("#1a7f37"),
            Some("#101820"),
            None,
        )
        .unwrap();
        assert_eq!(
            brand.logo_origin().as_deref(),
            Some("https://cdn.shop.example:8443")
        );
        let css = brand.css();
        assert!(
            css.contains("--bg: #101820;") && css.contains("--accent: #1a7f37;"),
            "{css}"
        );
        assert!(css.contains("color: #ffffff;"), "{css}");
        assert!(Brand::default().is_empty() && !brand.is_empty());
    }
}
