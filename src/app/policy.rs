//! The Content-Security-Policy of the pages: set by the shell for every page, and again by
//! a branded line's page to let its shop's logo in (`shop_brand`).

/// The Content-Security-Policy of a page, allowing its own files, the inline hydration
/// script with this response's nonce, and WebAssembly; and images from the origin of the
/// shop's logo on a branded line's pages (`logo`: an `https://host[:port]` origin, see
/// `crate::brand`).
pub fn page_policy(nonce: &str, logo: Option<&str>) -> String {
    let logo = logo.map(|origin| format!(" {origin}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:{logo}; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}
