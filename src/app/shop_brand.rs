//! The shop's brand above a line's card (README, "The shop's brand"): its stylesheet, its
//! logo and name, and its text block (sanitised HTML from `crate::brand`), and the page's
//! image policy widened to the logo's origin. Rendered on the server only; nothing when
//! the event has no brand.

use leptos::prelude::*;

use crate::domain::BrandView;

/// `event`: the event's id, the logo's text when the brand has no name.
#[component]
pub fn ShopBrand(brand: Option<BrandView>, event: String) -> impl IntoView {
    brand.map(|brand| {
        // The logo's origin, and nothing else, is added to this page's image policy.
        #[cfg(feature = "ssr")]
        if let (Some(origin), Some(nonce), Some(response)) = (
            brand.logo_origin.as_deref(),
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) {
            let policy = super::policy::page_policy(&nonce.to_string(), Some(origin));
            if let Ok(policy) = axum::http::HeaderValue::from_str(&policy) {
                response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
            }
        }
        // A logo beside the name is decoration; alone, it names the shop.
        let alt = match &brand.display_name {
            Some(_) => String::new(),
            None => event,
        };
        let logo = brand
            .logo_url
            .map(|src| view! { <img class="shop-logo" src=src alt=alt/> });
        let name = brand
            .display_name
            .map(|name| view! { <p class="shop-name">{name}</p> });
        let text = brand
            .text_html
            .map(|html| view! { <div class="shop-text" inner_html=html></div> });
        view! {
            <link rel="stylesheet" href=brand.stylesheet/>
            <header class="shop" data-testid="shop-brand">
                {logo}
                {name}
                {text}
            </header>
        }
    })
}
