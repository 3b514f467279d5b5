//! A user search as the statements take it, and which of its trigrams the PostgreSQL
//! trigram index should not be asked for.
//!
//! The index keeps, per trigram, the list of the users holding it. A trigram nearly every
//! user holds (`com` of `.com`, `use` of usernames given as `user…`) has a list as long as
//! the table, and a search that holds it reads and decodes that whole list (about 3 ms per
//! million users, however rare the search's other trigrams are). So on PostgreSQL the
//! index is searched with the rare parts of the search only, and the exact `LIKE` keeps
//! the matches: any substring of the search, in order, is in every row the search is in.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::warn;

use super::escape_like;
use crate::store::db::{sql, Backend, Conn};
use crate::store::StoreError;

/// A search, as the statements take it: the `LIKE` pattern of an exact match, the pattern
/// the trigram index is searched with (the whole search, or its rare parts in order), and
/// an FTS5 phrase (a quoted string: within it nothing but `"` is special).
pub(super) struct Search {
    pub(super) pattern: String,
    pub(super) candidates: String,
    pub(super) phrase: String,
}

impl Search {
    pub(super) fn new(search: &str, common: &Trigrams) -> Self {
        let pattern = format!("%{}%", escape_like(search));
        let candidates = match rare_parts(search, common) {
            // Lower case, as the index holds its text (the parts are ASCII).
            Some(parts) => format!("%{}%", parts.join("%").to_ascii_lowercase()),
            None => pattern.clone(),
        };
        Self { pattern, candidates, phrase: format!("\"{}\"", search.replace('"', "\"\"")) }
    }
}

/// Trigrams, as lower-case ASCII letters and digits.
pub(super) type Trigrams = HashSet<[u8; 3]>;

/// A trigram is common when more than one sampled user in this many holds it.
const COMMON_ONE_IN: usize = 8;
/// How many users are sampled: enough to tell one in eight from one in a hundred.
const SAMPLE: i64 = 10_000;
/// How long a sample stands; users' names change slowly, and a stale sample only costs
/// speed, never a match.
const SAMPLE_LIFETIME: Duration = Duration::from_secs(600);

/// The search's rare parts, in order and apart: runs of ASCII letters and digits none of
/// whose trigrams is common. `None` when the whole search is the better pattern: it holds
/// no common trigram (nothing to leave out), or nothing rare (nothing to search by).
fn rare_parts<'s>(search: &'s str, common: &Trigrams) -> Option<Vec<&'s str>> {
    let bytes = search.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric();
    let trigram = |i: usize| -> Option<[u8; 3]> {
        let w = bytes.get(i..i + 3)?;
        w.iter().all(|&b| word(b)).then(|| [w[0], w[1], w[2]].map(|b| b.to_ascii_lowercase()))
    };
    let mut parts: Vec<&str> = Vec::new();
    let (mut any_common, mut end_of_last) = (false, 0);
    let mut i = 0;
    while i + 3 <= bytes.len() {
        match trigram(i) {
            Some(t) if !common.contains(&t) => {
                // The run of rare trigrams from here: characters [i, j + 3).
                let mut j = i;
                while trigram(j + 1).is_some_and(|t| !common.contains(&t)) {
                    j += 1;
                }
                // Apart from the previous part (a row holding `abcde` holds `abc` and
                // `cde`, but not one after the other), and still a trigram long.
                let start = i.max(end_of_last);
                if j + 3 - start >= 3 {
                    parts.push(&search[start..j + 3]);
                    end_of_last = j + 3;
                }
                i = j + 1;
            }
            Some(_) => {
                any_common = true;
                i += 1;
            }
            None => i += 1,
        }
    }
    (any_common && !parts.is_empty()).then_some(parts)
}

/// The trigrams common among users, from a sample, kept for a while per process.
#[derive(Default)]
pub(crate) struct CommonTrigrams {
    sampled: Mutex<Option<(Instant, Arc<Trigrams>)>>,
    sampling: AtomicBool,
}

impl CommonTrigrams {
    /// The common trigrams (none on SQLite, whose index is not searched by trigram
    /// lists). Sampled again once the sample is old, by one search while the others go on
    /// with the old one (or with none, searching by the whole search as before). A sample
    /// that fails is logged and tried again a lifetime later: a search never fails for it.
    pub(super) async fn get(&self, c: &mut Conn<'_>) -> Arc<Trigrams> {
        if c.backend() == Backend::Sqlite {
            return Arc::default();
        }
        let (fresh, kept) = self.kept();
        if fresh || self.sampling.swap(true, Ordering::AcqRel) {
            return kept;
        }
        // Cleared however the sampling ends, a request dropped while it waits included.
        let _sampling = Cleared(&self.sampling);
        // Another search may have sampled between the look and the flag.
        let (fresh, kept) = self.kept();
        if fresh {
            return kept;
        }
        // The attempt stands for a sample from its start: searches dropped mid-sample do
        // not start one after another before the lifetime is out.
        self.keep(kept.clone());
        let trigrams = match sample(c).await {
            Ok(trigrams) => Arc::new(trigrams),
            Err(e) => {
                warn!(error = %e, "sampling users for the search's common trigrams failed; trying again later");
                kept
            }
        };
        self.keep(trigrams.clone());
        trigrams
    }

    /// Whether the sample is fresh, and its trigrams (none before the first).
    fn kept(&self) -> (bool, Arc<Trigrams>) {
        let kept = self.sampled.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let fresh = kept.as_ref().is_some_and(|(at, _)| at.elapsed() < SAMPLE_LIFETIME);
        (fresh, kept.map(|(_, trigrams)| trigrams).unwrap_or_default())
    }

    fn keep(&self, trigrams: Arc<Trigrams>) {
        *self.sampled.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), trigrams));
    }
}

/// Clears its flag when dropped.
struct Cleared<'a>(&'a AtomicBool);

impl Drop for Cleared<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The trigrams more than one in `COMMON_ONE_IN` sampled users hold, in their username
/// key or their email. The sample is of whole pages (cheap), a tenth of a percent of a
/// table of ten million users.
async fn sample(c: &mut Conn<'_>) -> Result<Trigrams, StoreError> {
    let rows: i64 = c
        .scalar(sql("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = 'users'::regclass"))
        .await?;
    // In thousandths of a percent; every page of a table never analysed (`reltuples` -1).
    let share = if rows > SAMPLE { (SAMPLE * 100_000 / rows).max(1) } else { 100_000 };
    let texts: Vec<String> = c
        .scalars(
            sql("SELECT username_key || ' ' || lower(email) FROM users TABLESAMPLE SYSTEM ($1::float8 / 1000) LIMIT $2")
                .bind(share)
                .bind(SAMPLE),
        )
        .await?;
    Ok(common_in(&texts))
}

/// The trigrams more than one in `COMMON_ONE_IN` of `texts` hold.
fn common_in(texts: &[String]) -> Trigrams {
    let mut counts: std::collections::HashMap<[u8; 3], usize> = Default::default();
    let mut seen = HashSet::new();
    for text in texts {
        seen.clear();
        for w in text.as_bytes().windows(3) {
            if w.iter().all(u8::is_ascii_alphanumeric) {
                seen.insert([w[0], w[1], w[2]].map(|b| b.to_ascii_lowercase()));
            }
        }
        for t in &seen {
            *counts.entry(*t).or_default() += 1;
        }
    }
    counts.into_iter().filter(|&(_, n)| n * COMMON_ONE_IN > texts.len()).map(|(t, _)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(trigrams: &[&str]) -> Trigrams {
        trigrams.iter().map(|t| <[u8; 3]>::try_from(t.as_bytes()).unwrap()).collect()
    }

    #[test]
    fn the_index_is_searched_by_the_rare_parts_in_order() {
        let common = set(&["use", "ser", "com", "gma", "mai", "ail"]);
        assert_eq!(rare_parts("user2500007", &common), Some(vec!["er2500007"]));
        assert_eq!(rare_parts("alice@gmail.com", &common), Some(vec!["alice"]));
        assert_eq!(rare_parts("bob@bobcorp.com", &common), Some(vec!["bob", "bobcorp"]));
        // Upper case is looked up, and searched, as the index holds it.
        assert_eq!(rare_parts("USER42x", &common), Some(vec!["ER42x"]));
        assert_eq!(Search::new("USER42x", &common).candidates, "%er42x%");
        let s = Search::new("user2500007", &common);
        assert_eq!((s.pattern.as_str(), s.candidates.as_str()), ("%user2500007%", "%er2500007%"));
        let s = Search::new("bob@bobcorp.com", &common);
        assert_eq!(s.candidates, "%bob%bobcorp%");
    }

    #[test]
    fn parts_never_overlap() {
        // `bcd` common: `abc` and `cde` share `c`; the second part starts after the first.
        let common = set(&["bcd"]);
        assert_eq!(rare_parts("abcdefg", &common), Some(vec!["abc", "defg"]));
        // Too short once apart: left out, rather than overlapping.
        assert_eq!(rare_parts("abcde", &common), Some(vec!["abc"]));
    }

    #[test]
    fn the_whole_search_when_nothing_is_left_out_or_nothing_rare_is_left() {
        let common = set(&["use", "ser", "com"]);
        assert_eq!(rare_parts("alice", &common), None);
        assert_eq!(rare_parts("user", &common), None);
        assert_eq!(rare_parts(".com", &common), None);
        assert_eq!(rare_parts("ab", &common), None);
        assert_eq!(rare_parts("", &common), None);
        assert_eq!(Search::new("a%b_user", &common).candidates, "%a\\%b\\_user%");
        // Non-ASCII letters are never a part (the index's idea of a letter is the
        // database's locale); the ASCII around them still can be.
        assert_eq!(rare_parts("zoë-userxyz", &common), Some(vec!["erxyz"]));
    }

    /// Whether `text` holds the parts of `candidates` (`%a%b%`, no other wildcard), one
    /// after the other: what `LIKE` decides for such a pattern.
    fn holds_in_order(text: &str, candidates: &str) -> bool {
        let mut rest = text;
        for part in candidates.split('%').filter(|p| !p.is_empty()) {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        true
    }

    #[test]
    fn every_text_holding_the_search_is_a_candidate() {
        // Searches from a few letters (so that runs, common trigrams and repeats are
        // frequent; some upper case), digits, separators, LIKE's wildcards and a non-ASCII
        // letter, each against common sets of every size, inside lower-case text around it
        // (the index's text is lower case).
        let alphabet: Vec<char> = "abAbc1aB_%.é".chars().collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let trigrams: Vec<[u8; 3]> = ["aba", "bab", "ab1", "b1c", "1ca", "cab", "abc", "bca"]
            .iter()
            .map(|t| t.as_bytes().try_into().unwrap())
            .collect();
        let mut parted = 0;
        for _ in 0..20_000 {
            let search: String = (0..next(14)).map(|_| alphabet[next(alphabet.len())]).collect();
            let common: Trigrams = trigrams.iter().filter(|_| next(2) == 0).copied().collect();
            let s = Search::new(&search, &common);
            if s.candidates == s.pattern {
                continue;
            }
            parted += 1;
            assert!(
                !s.candidates.contains('\\') && !s.candidates.contains('_'),
                "{search:?}: {}",
                s.candidates
            );
            let text = format!("{}{}{}", "xé_%", search.to_lowercase(), ".zz");
            assert!(holds_in_order(&text, &s.candidates), "{search:?} with {common:?}: {}", s.candidates);
        }
        assert!(parted > 1_000, "only {parted} searches had rare parts");
    }

    #[test]
    fn common_means_held_by_more_than_one_in_eight() {
        let mut texts: Vec<String> = (0..16).map(|i| format!("user{i} user{i}@example.com")).collect();
        texts.push("alice alice@example.org".into());
        texts.push("alice2 Alice2@example.org".into());
        texts.push("alice3 alice3@example.org".into());
        let common = common_in(&texts);
        for t in ["use", "ser", "exa", "com"] {
            assert!(common.contains(t.as_bytes()), "{t}");
        }
        // `ali` is held by 3 of 19 (one in 6.3), `org` by 3, `er1` by 7 (user1, user10..15).
        assert!(common.contains(b"ali") && common.contains(b"org") && common.contains(b"er1"));
        // `er2` by 1 (user2); `r15` by 1.
        assert!(!common.contains(b"er2") && !common.contains(b"r15"));
        assert!(common_in(&[]).is_empty());
    }
}
