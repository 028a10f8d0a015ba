//! The shop's brand above a line's card (README, "The shop's brand"): its stylesheet, its
//! logo and name, and its text block (sanitised HTML from `crate::brand`). Rendered on
//! the server only; nothing when the event has no brand.

use leptos::prelude::*;

use crate::domain::BrandView;

/// `event`: the event's id, the logo's text when the brand has no name.
#[component]
pub fn ShopBrand(brand: Option<BrandView>, event: String) -> impl IntoView {
    brand.map(|brand| {
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
