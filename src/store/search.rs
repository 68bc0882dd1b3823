//! Keycloak's admin search syntax, turned into LIKE patterns.
//!
//! Keycloak's own user search (`JpaUserProvider`) splits the text on
//! whitespace and requires every word to match one of username, email, first
//! and last name; each word on its own is a prefix, has `*` wildcards, or is
//! exact when it is in double quotes. Quotes do not group words: the text is
//! split first, so `"max mustermann"` is the two words `"max` and
//! `mustermann"`, neither of them quoted at both ends, each a prefix with a
//! literal `"` in it. [`Search::parse`] does the same for the default
//! queries; configured queries get the whole text as one pattern
//! ([`search_pattern`]), as the query contract has always said.

use super::queries::{MAX_SEARCH_TERMS, TERM_PARAMS};
use crate::dialect::Param;

/// A search as the default queries run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Search {
    /// Empty, blank or only wildcards: everyone, without a filter.
    Everyone,
    /// One LIKE pattern per word (at most [`MAX_SEARCH_TERMS`]); a user
    /// matches when every pattern matches one of the searched columns.
    Terms(Vec<String>),
}

impl Search {
    /// Splits `text` on whitespace into words, each turned into a pattern by
    /// [`search_pattern`]. Words that match anything (`*`) are left out.
    /// Words beyond the [`MAX_SEARCH_TERMS`]th stay in the last term, joined
    /// by single spaces, so the SQL has a bounded number of shapes.
    pub(super) fn parse(text: &str) -> Self {
        let mut words: Vec<&str> = text
            .split_whitespace()
            .filter(|word| !matches_anything(&search_pattern(word)))
            .collect();
        if words.is_empty() {
            return Self::Everyone;
        }
        let tail = words.split_off((MAX_SEARCH_TERMS - 1).min(words.len() - 1));
        let mut patterns: Vec<String> = words.into_iter().map(search_pattern).collect();
        patterns.push(search_pattern(&tail.join(" ")));
        Self::Terms(patterns)
    }

    /// How many word patterns the query binds (0 for everyone).
    pub(super) fn terms(&self) -> usize {
        match self {
            Self::Everyone => 0,
            Self::Terms(patterns) => patterns.len(),
        }
    }

    /// `:search`, `:search2`, ... for each word, plus `:offset` and `:limit`.
    pub(super) fn params(&self, first: u32, max: u32) -> Vec<(&'static str, Param)> {
        let patterns = match self {
            Self::Everyone => &[][..],
            Self::Terms(patterns) => patterns.as_slice(),
        };
        TERM_PARAMS
            .iter()
            .zip(patterns)
            .map(|(name, pattern)| (*name, Param::Text(pattern.clone())))
            .chain(paging(first, max))
            .collect()
    }
}

/// True for a pattern of nothing but `%` wildcards.
fn matches_anything(pattern: &str) -> bool {
    pattern.chars().all(|c| c == '%')
}

/// Turns Keycloak's admin search syntax into a lower-case LIKE pattern with
/// `!` as escape character: `foo` is a prefix match, `*` is a wildcard, a
/// value in double quotes matches exactly, and empty or `*` matches all.
pub fn search_pattern(search: &str) -> String {
    let search = search.trim();
    let (body, exact) = match search.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => (inner, true),
        None => (search, false),
    };
    let mut pattern = String::with_capacity(body.len() + 1);
    let mut ends_with_wildcard = false;
    for c in body.chars() {
        ends_with_wildcard = false;
        match c {
            '!' | '%' | '_' => {
                pattern.push('!');
                pattern.push(c);
            }
            '*' if !exact => {
                pattern.push('%');
                ends_with_wildcard = true;
            }
            _ => pattern.extend(c.to_lowercase()),
        }
    }
    if !exact && !ends_with_wildcard {
        pattern.push('%');
    }
    pattern
}

/// The `:search`, `:offset` and `:limit` parameters of a configured search
/// or count: the whole text as one pattern.
pub(super) fn search_params(search: &str, first: u32, max: u32) -> Vec<(&'static str, Param)> {
    let pattern = ("search", Param::Text(search_pattern(search)));
    std::iter::once(pattern).chain(paging(first, max)).collect()
}

fn paging(first: u32, max: u32) -> [(&'static str, Param); 2] {
    [
        ("offset", Param::Int(first.into())),
        ("limit", Param::Int(max.into())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_search_is_a_case_insensitive_prefix_match() {
        assert_eq!(search_pattern("MuSter"), "muster%");
    }

    #[test]
    fn star_is_a_wildcard() {
        assert_eq!(search_pattern("*ster"), "%ster%");
        assert_eq!(search_pattern("m*n"), "m%n%");
        assert_eq!(search_pattern("mus*"), "mus%");
    }

    #[test]
    fn quoted_search_is_exact() {
        assert_eq!(search_pattern("\"mmustermann\""), "mmustermann");
        assert_eq!(search_pattern("\"a*b\""), "a*b");
    }

    #[test]
    fn empty_and_star_match_everything() {
        assert_eq!(search_pattern(""), "%");
        assert_eq!(search_pattern("   "), "%");
        assert_eq!(search_pattern("*"), "%");
    }

    #[test]
    fn like_metacharacters_in_input_are_escaped() {
        assert_eq!(search_pattern("50%_off!"), "50!%!_off!!%");
        assert_eq!(
            search_pattern("50%"),
            "50!%%",
            "an escaped % is not a wildcard"
        );
        assert_eq!(search_pattern("\"a_b\""), "a!_b");
    }

    fn terms(text: &str) -> Vec<String> {
        match Search::parse(text) {
            Search::Everyone => Vec::new(),
            Search::Terms(patterns) => patterns,
        }
    }

    #[test]
    fn every_word_is_a_term_of_its_own() {
        assert_eq!(terms("Max Muster"), ["max%", "muster%"]);
        assert_eq!(terms("  max\t *ster  "), ["max%", "%ster%"]);
        assert_eq!(terms("\"zed\" Let*"), ["zed", "let%"]);
    }

    #[test]
    fn quotes_do_not_group_words_as_in_keycloak() {
        assert_eq!(terms("\"max mustermann\""), ["\"max%", "mustermann\"%"]);
    }

    #[test]
    fn no_words_or_only_wildcards_is_everyone() {
        for text in ["", "   ", "*", "* **", "\t"] {
            assert_eq!(Search::parse(text), Search::Everyone, "{text:?}");
        }
        assert_eq!(terms("* max *"), ["max%"]);
        assert_eq!(
            Search::parse("\"*\"").terms(),
            1,
            "a quoted star is a literal star"
        );
    }

    #[test]
    fn words_beyond_the_cap_stay_in_the_last_term() {
        assert_eq!(terms("a b c d e f  g"), ["a%", "b%", "c%", "d%", "e f g%"]);
        assert_eq!(terms("a b c d e").len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn each_term_binds_its_own_parameter() {
        let params = Search::parse("max muster").params(20, 10);
        let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["search", "search2", "offset", "limit"]);
        let params = Search::Everyone.params(0, 10);
        let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["offset", "limit"]);
    }

    /// Splits a pattern into literal text and wildcards, honouring `!` escapes.
    fn unescape(pattern: &str) -> (String, usize) {
        let (mut literal, mut wildcards) = (String::new(), 0);
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '!' => literal.push(chars.next().expect("escape is followed by a character")),
                '%' => wildcards += 1,
                '_' => panic!("unescaped _ in {pattern:?}"),
                other => literal.push(other),
            }
        }
        (literal, wildcards)
    }

    proptest::proptest! {
        #[test]
        fn quoted_search_matches_exactly_the_lowercased_text(text in "[^\"]{0,40}") {
            let pattern = search_pattern(&format!("\"{text}\""));
            let (literal, wildcards) = unescape(&pattern);
            proptest::prop_assert_eq!(wildcards, 0);
            proptest::prop_assert_eq!(literal, text.to_lowercase());
        }

        #[test]
        fn unquoted_search_is_a_prefix_with_stars_as_the_only_wildcards(text in "[^\"*]{0,40}") {
            let pattern = search_pattern(&text);
            proptest::prop_assert!(pattern.ends_with('%'));
            let (literal, wildcards) = unescape(&pattern);
            proptest::prop_assert_eq!(wildcards, 1);
            proptest::prop_assert_eq!(literal, text.trim().to_lowercase());
        }

        #[test]
        fn a_search_has_few_terms_each_well_formed(text in "[ a-z*\"%_!]{0,80}") {
            if let Search::Terms(patterns) = Search::parse(&text) {
                proptest::prop_assert!(!patterns.is_empty());
                proptest::prop_assert!(patterns.len() <= MAX_SEARCH_TERMS);
                for pattern in &patterns {
                    let _ = unescape(pattern);
                    proptest::prop_assert!(!matches_anything(pattern));
                }
            }
        }

        #[test]
        fn any_search_gives_a_well_formed_pattern(text in ".{0,60}") {
            // Every `!` escapes something and no `_` is left unescaped.
            let _ = unescape(&search_pattern(&text));
        }
    }
}
