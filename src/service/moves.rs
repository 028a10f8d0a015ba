//! Taking a place to another device (README, "Take your place with you"): the offer the
//! place's page shows (a one-time link and its QR code), and the move itself, which leaves
//! exactly one browser holding the place.

use super::{Service, ServiceError};
use crate::domain::{EventId, SessionView, Status, UserId};
use crate::store::{MoveRefusal, MoveReply, MOVE_OFFER_MS};
use crate::visitor::VISITOR_PREFIX;

/// An offer to move a place: its link's parts and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOffer {
    pub event_id: EventId,
    /// The place's join number.
    pub join_number: u64,
    /// 32 hex digits, spent by the move.
    pub token: String,
    pub expires_in_seconds: u64,
}

impl MoveOffer {
    /// The link's path: `/move/<event>/<join number>-<token>`. It carries no session id:
    /// whoever sees it can take the place within its few minutes, and nothing else.
    pub fn path(&self) -> String {
        format!(
            "/move/{}/{}-{}",
            self.event_id, self.join_number, self.token
        )
    }
}

/// The join number and token of a move link's last part (`<join number>-<token>`).
pub fn parse_move_code(code: &str) -> Option<(u64, &str)> {
    let (q, token) = code.split_once('-')?;
    let ok = token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    Some((q.parse().ok()?, token)).filter(|_| ok)
}

/// The QR code of `url` as an SVG element (no XML prolog: it goes inside the page), at
/// least 240 px wide, with its quiet zone. Made here: no outside service sees the link.
pub fn qr_svg(url: &str) -> Result<String, ServiceError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, "a move link has no QR code");
        ServiceError::Internal
    })?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    })
}

impl Service {
    /// A new offer to move the place of `view` (its owner's: the caller checked), replacing
    /// any earlier one. Only a waiting place moves.
    pub async fn offer_move(&self, view: &SessionView) -> Result<MoveOffer, ServiceError> {
        if view.status != Status::Waiting {
            return Err(ServiceError::NotMovable);
        }
        let (join_number, token) = self
            .inner
            .store
            .offer_move(&view.session_id)
            .await?
            // No longer waiting (admitted, left) since its status was read.
            .ok_or(ServiceError::NotMovable)?;
        Ok(MoveOffer {
            event_id: view.event_id.clone(),
            join_number,
            token,
            expires_in_seconds: MOVE_OFFER_MS / 1_000,
        })
    }

    /// Moves the place named by a move link to `visitor` (the browser that opened it): the
    /// place under its new session id.
    pub async fn take_place(
        &self,
        event: &EventId,
        code: &str,
        visitor: &UserId,
    ) -> Result<SessionView, ServiceError> {
        let now = self.now();
        let Some(link) = parse_move_code(code) else {
            return Err(ServiceError::MoveExpired);
        };
        match self
            .inner
            .store
            .take_place(event, link, visitor, VISITOR_PREFIX)
            .await?
        {
            MoveReply::Moved(record) => self.view(*record, now).await,
            MoveReply::Refused(MoveRefusal::Expired) => Err(ServiceError::MoveExpired),
            MoveReply::Refused(MoveRefusal::Same) => Err(ServiceError::PlaceInThisBrowser),
            MoveReply::Refused(MoveRefusal::Held) => Err(ServiceError::OtherPlaceHere),
            MoveReply::Refused(MoveRefusal::Gone | MoveRefusal::Most) => {
                Err(ServiceError::NotMovable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_links_qr_code_is_an_svg_element_of_dark_modules() {
        let svg =
            qr_svg("https://room.example/move/E1/17-0123456789abcdef0123456789abcdef").unwrap();
        assert!(svg.starts_with("<svg "), "{svg:.80}");
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r##"fill="#000""##) && svg.contains("<path"));
        assert!(!svg.contains("<script") && !svg.contains("<?xml"));
    }

    #[test]
    fn a_move_code_is_a_join_number_and_a_token_of_32_hex_digits() {
        let token = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(parse_move_code(&format!("17-{token}")), Some((17, token)));
        for bad in [
            "17",
            "x-0123456789abcdef0123456789abcdef",
            "17-0123456789abcdef",
            "17-0123456789abcdef0123456789abcdeg",
            "-0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(parse_move_code(bad), None, "{bad}");
        }
    }
}
