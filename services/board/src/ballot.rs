//! Ballot keys: what a member's participation in a vote is stored under, so the
//! database alone never links a member to a choice.
//!
//! - `ballot` = HMAC-SHA-256(secret, "moing.board.ballot.v1" ‖ vote ‖ member)
//!   names the member's rows in `vote_choice`;
//! - `voter` = the first 16 bytes of HMAC-SHA-256(secret, "moing.board.voter.v1"
//!   ‖ vote ‖ member) is the member's "voted" row in `vote_voter` for an
//!   anonymous vote (a named vote stores the member id there).
//!
//! Both are keyed by the ballot secret, which lives in configuration only
//! (`board.ballot_secret`): without it neither can be recomputed from the ids a
//! database reader knows, and the two cannot be matched with each other.
//!
//! Rotation: the current secret writes; previous secrets are still recognised,
//! so a member's own ballot is found (their choice is shown, a new cast replaces
//! it rather than adding a second ballot) until the votes cast under them close.
//! Each `vote_choice` row keeps the 4-byte id of the key that made it, so an
//! operator can see when no open vote needs an old key any more.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::BoardSettings;

type HmacSha256 = Hmac<Sha256>;

const BALLOT_LABEL: &[u8] = b"moing.board.ballot.v1\0";
const VOTER_LABEL: &[u8] = b"moing.board.voter.v1\0";
const KEY_ID_LABEL: &[u8] = b"moing.board.ballot-key-id.v1\0";

/// One member's ballot in one vote under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    /// Which key made it (`vote_choice.key_id`).
    pub key_id: [u8; 4],
    /// Names the member's choices (`vote_choice.ballot`).
    pub ballot: [u8; 32],
    /// The member's row in `vote_voter` for an anonymous vote.
    pub voter: [u8; 16],
}

#[derive(Clone)]
struct Key {
    id: [u8; 4],
    secret: Vec<u8>,
}

/// The current ballot key and the previous ones still recognised.
#[derive(Clone)]
pub struct BallotKeys {
    /// `keys[0]` is the current key.
    keys: Vec<Key>,
}

impl std::fmt::Debug for BallotKeys {
    // Key ids only: the secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BallotKeys")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

impl BallotKeys {
    /// `current` makes every new ballot; `previous` are only recognised.
    pub fn new(current: &str, previous: &[String]) -> Self {
        let mut keys: Vec<Key> = Vec::with_capacity(1 + previous.len());
        for secret in std::iter::once(current).chain(previous.iter().map(String::as_str)) {
            let key = Key {
                id: key_id(secret.as_bytes()),
                secret: secret.as_bytes().to_vec(),
            };
            if !keys.iter().any(|k| k.secret == key.secret) {
                keys.push(key);
            }
        }
        Self { keys }
    }

    pub fn from_settings(settings: &BoardSettings) -> Self {
        Self::new(&settings.ballot_secret, &settings.ballot_previous_secrets)
    }

    /// Hex ids of the keys, current first (for the start-up log and operators).
    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| hex::encode(k.id)).collect()
    }

    /// The ballot a cast writes now.
    pub fn current(&self, vote: Uuid, member: Uuid) -> Ballot {
        ballot(&self.keys[0], vote, member)
    }

    /// The member's ballot under every recognised key, current first: what a
    /// lookup or a replacing cast matches.
    pub fn all(&self, vote: Uuid, member: Uuid) -> Vec<Ballot> {
        self.keys.iter().map(|k| ballot(k, vote, member)).collect()
    }
}

fn ballot(key: &Key, vote: Uuid, member: Uuid) -> Ballot {
    let voter = mac(&key.secret, VOTER_LABEL, vote, member);
    Ballot {
        key_id: key.id,
        ballot: mac(&key.secret, BALLOT_LABEL, vote, member),
        voter: voter[..16].try_into().unwrap_or_default(),
    }
}

/// HMAC-SHA-256(secret, label ‖ vote ‖ member); the label separates uses.
pub fn mac(secret: &[u8], label: &[u8], vote: Uuid, member: Uuid) -> [u8; 32] {
    let mut m =
        <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    m.update(label);
    m.update(vote.as_bytes());
    m.update(member.as_bytes());
    m.finalize().into_bytes().into()
}

/// A public fingerprint of a secret (4 bytes of a labelled SHA-256): tells keys
/// apart in storage without revealing them.
fn key_id(secret: &[u8]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(KEY_ID_LABEL)
        .chain_update(secret)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_depend_on_the_secret_the_vote_and_the_member() {
        let (vote, a, b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let keys = BallotKeys::new("secret-one", &[]);
        let x = keys.current(vote, a);
        assert_eq!(x, keys.current(vote, a), "deterministic");
        assert_ne!(x.ballot, keys.current(vote, b).ballot);
        assert_ne!(x.ballot, keys.current(Uuid::now_v7(), a).ballot);
        assert_ne!(
            x.ballot,
            BallotKeys::new("secret-two", &[]).current(vote, a).ballot
        );
        // The voter row is not a piece of the ballot: the two cannot be joined.
        assert_ne!(x.voter[..], x.ballot[..16]);
    }

    #[test]
    fn a_rotated_key_still_recognises_ballots_of_the_old_one() {
        let (vote, m) = (Uuid::now_v7(), Uuid::now_v7());
        let old = BallotKeys::new("old-secret", &[]);
        let rotated = BallotKeys::new("new-secret", &["old-secret".into()]);
        assert_ne!(rotated.current(vote, m), old.current(vote, m));
        assert_eq!(rotated.all(vote, m)[1], old.current(vote, m));
        assert_eq!(rotated.key_ids()[1], old.key_ids()[0]);
        assert_eq!(
            BallotKeys::new("a", &["a".into()]).key_ids().len(),
            1,
            "a repeated key counts once"
        );
        assert!(!format!("{rotated:?}").contains("secret"), "{rotated:?}");
    }
}
