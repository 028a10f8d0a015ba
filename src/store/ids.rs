//! What a session id carries, so that a session is found from its id alone.
//!
//! A session id is a version 8 UUID (RFC 9562, "custom") laid out as
//!
//! ```text
//! EEEEEEQQ-QQQQ-8QQQ-TTTT-TTTTTTTTTTTT
//! ```
//!
//! - `E`: the event's number (24 bits) from the registry [`super::keys::EVENTS`];
//! - `Q`: the join number within the event (36 bits), which names the session's bucket;
//! - `8`: the version; `T`: the tag, 64 bits whose first two are the RFC variant `10`,
//!   so 62 random bits. The tag is stored with the session (as the id's last 17
//!   characters) and must match: an id cannot be guessed from a neighbour's.
//!
//! The join script builds the id (it is the one that knows the join number) from the
//! event number and tag given here, with the same layout (`session_id` in
//! `lua/common.lua`). Only the store knows this layout.

use crate::domain::SessionId;

/// Largest event number an id can carry.
pub const MAX_EVENT_NUMBER: u32 = (1 << 24) - 1;

/// The parts of a session id minted by [`super::Store::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionKey {
    pub event_number: u32,
    pub seq: u64,
    pub tag: u64,
}

impl SessionKey {
    /// `None` for a UUID this store did not mint (wrong version or variant): an unknown
    /// session, not a bad request.
    pub fn decode(sid: &SessionId) -> Option<Self> {
        let b = sid.as_bytes();
        if b[6] >> 4 != 8 || b[8] >> 6 != 0b10 {
            return None;
        }
        let be = |bytes: &[u8]| bytes.iter().fold(0u64, |n, &x| (n << 8) | u64::from(x));
        let event_number = be(&b[0..3]) as u32;
        let seq = (be(&b[3..6]) << 12) | (u64::from(b[6] & 0x0f) << 8) | u64::from(b[7]);
        Some(Self {
            event_number,
            seq,
            tag: be(&b[8..16]),
        })
    }

    /// The tag as the scripts store it: the id's last 17 characters.
    pub fn tag_text(&self) -> String {
        tag_text(self.tag)
    }

    /// The id, as `session_id` in common.lua writes it.
    pub fn encode(&self) -> SessionId {
        let mut b = [0u8; 16];
        b[0..3].copy_from_slice(&self.event_number.to_be_bytes()[1..4]);
        let high = (self.seq >> 12).to_be_bytes();
        b[3..6].copy_from_slice(&high[5..8]);
        b[6] = 0x80 | ((self.seq >> 8) & 0x0f) as u8;
        b[7] = (self.seq & 0xff) as u8;
        b[8..16].copy_from_slice(&self.tag.to_be_bytes());
        SessionId::from_bytes(b)
    }
}

/// A fresh random tag, with the RFC 9562 variant bits set.
pub fn random_tag() -> u64 {
    (rand::random::<u64>() >> 2) | (0b10 << 62)
}

/// A tag as the scripts store it: the last 17 characters of the id, `TTTT-TTTTTTTTTTTT`.
pub fn tag_text(tag: u64) -> String {
    format!("{:04x}-{:012x}", tag >> 48, tag & 0xffff_ffff_ffff)
}

/// The event number as the join script takes it: 6 lowercase hex digits.
pub fn event_number_hex(number: u32) -> String {
    format!("{number:06x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_round_trips_and_reads_as_a_version_8_uuid() {
        let key = SessionKey {
            event_number: 0x00ab_cdef,
            seq: 0x0f_1234_5678,
            tag: random_tag(),
        };
        let sid = key.encode();
        assert_eq!(SessionKey::decode(&sid), Some(key));
        let text = sid.to_string();
        assert_eq!(&text[..8], "abcdeff1");
        assert_eq!(&text[9..13], "2345");
        assert_eq!(&text[14..18], "8678");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
        assert_eq!(SessionId::parse(&text).unwrap(), sid);
        assert_eq!(&text[19..], key.tag_text());
    }

    #[test]
    fn a_random_v4_uuid_is_not_one_of_ours() {
        let v4 = SessionId::parse("0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d").unwrap();
        assert_eq!(SessionKey::decode(&v4), None);
    }

    #[test]
    fn tags_carry_the_variant_and_62_random_bits() {
        let tags: Vec<u64> = (0..64).map(|_| random_tag()).collect();
        assert!(tags.iter().all(|t| t >> 62 == 0b10));
        let ored = tags.iter().fold(0, |a, t| a | (t & ((1 << 62) - 1)));
        assert_eq!(ored, (1 << 62) - 1, "every random bit varies");
    }
}
