//! Small text tools for the offline synthesiser: tokens, term vectors, cosine.

use std::collections::BTreeMap;

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "for",
    "from", "get", "got", "had", "has", "have", "he", "her", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "me", "my", "myself", "no", "not", "of", "on", "one", "or",
    "our", "out", "over", "she", "so", "some", "than", "that", "the", "their", "them", "then",
    "there", "they", "this", "to", "too", "up", "us", "was", "we", "were", "what", "when", "which",
    "while", "who", "will", "with", "would", "you", "your", "i'm", "it's", "im", "its", "way",
    "want", "need", "like", "every", "each", "usually", "always", "often",
];

/// Lower-case word stems without stopwords. The stemming is deliberately crude
/// (plural and -ing/-ed endings): enough to pair "reports" with "report".
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.len() > 1 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

fn stem(w: &str) -> String {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(root) = w.strip_suffix(suffix) {
            if root.len() >= 4 {
                return root.to_string();
            }
        }
    }
    w.to_string()
}

/// A bag of words with counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermVector(pub BTreeMap<String, f64>);

impl TermVector {
    pub fn of(text: &str) -> TermVector {
        let mut v = TermVector::default();
        for t in tokens(text) {
            *v.0.entry(t).or_default() += 1.0;
        }
        v
    }

    pub fn add(&mut self, other: &TermVector) {
        for (k, x) in &other.0 {
            *self.0.entry(k.clone()).or_default() += x;
        }
    }

    fn norm(&self) -> f64 {
        self.0.values().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Cosine similarity in [0, 1]; 0 when either side is empty.
    pub fn cosine(&self, other: &TermVector) -> f64 {
        let (small, large) = if self.0.len() <= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let dot: f64 = small
            .0
            .iter()
            .filter_map(|(k, x)| large.0.get(k).map(|y| x * y))
            .sum();
        let n = self.norm() * other.norm();
        if n == 0.0 {
            0.0
        } else {
            dot / n
        }
    }
}

/// FNV-1a: a hash that is stable across Rust versions and platforms, so that
/// seeds derived from it give the same personas everywhere.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_drop_stopwords_and_stem() {
        assert_eq!(
            tokens("I want the Reports, reporting!"),
            ["report", "report"]
        );
    }

    #[test]
    fn cosine_bounds() {
        let a = TermVector::of("slow builds waste time");
        let b = TermVector::of("builds are slow");
        let c = TermVector::of("lovely weather");
        assert!((a.cosine(&a) - 1.0).abs() < 1e-12);
        assert!(a.cosine(&b) > 0.5);
        assert_eq!(a.cosine(&c), 0.0);
        assert_eq!(a.cosine(&TermVector::default()), 0.0);
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash(&["a"]), stable_hash(&["a"]));
        assert_ne!(stable_hash(&["a", "b"]), stable_hash(&["ab"]));
    }
}
