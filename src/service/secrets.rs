//! The room's keys: the pass signing key and the cookie key, from the configured files or
//! from Redis (made there by whichever instance asked first), loaded once per process.

use secrecy::ExposeSecret;

use super::{Service, ServiceError};
use crate::challenge::Challenger;
use crate::passes::Keyring;
use crate::store::keys::{COOKIE_KEY, SIGNING_KEY};
use crate::visitor::Cookies;

/// The room's keys, loaded once per process.
pub struct Secrets {
    pub keyring: Keyring,
    pub cookies: Cookies,
    /// Makes and checks the join's challenges (from the cookie secret).
    pub challenger: Challenger,
}

impl Service {
    /// The keys: from the configured files, else from Redis (made there by whichever
    /// instance asked first). Loaded on first use, so the server starts while Redis is
    /// away; until they load, what needs them answers 503.
    pub async fn secrets(&self) -> Result<&Secrets, ServiceError> {
        self.inner
            .secrets
            .get_or_try_init(|| async {
                let source = &self.inner.settings.secrets;
                let store = &self.inner.store;
                let signing = match &source.signing_key {
                    Some(pem) => pem.expose_secret().to_owned(),
                    None => {
                        store
                            .shared_secret(SIGNING_KEY, &Keyring::generate_pem())
                            .await?
                    }
                };
                let cookie_secret = match &source.cookie_secret {
                    Some(secret) => secret.expose_secret().as_bytes().to_vec(),
                    None => {
                        let fresh = format!(
                            "{:032x}{:032x}",
                            rand::random::<u128>(),
                            rand::random::<u128>()
                        );
                        store.shared_secret(COOKIE_KEY, &fresh).await?.into_bytes()
                    }
                };
                let keyring = Keyring::new(&signing, &source.retired_keys).map_err(|e| {
                    tracing::error!(error = %e, "the pass signing key is unusable");
                    ServiceError::Internal
                })?;
                Ok::<_, ServiceError>(Secrets {
                    keyring,
                    challenger: Challenger::new(&cookie_secret),
                    cookies: Cookies::new(&cookie_secret, source.cookie_domain.clone()),
                })
            })
            .await
    }
}
