//! Keycloak's admin search syntax, turned into LIKE patterns.

use crate::dialect::Param;

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

/// The `:search`, `:offset` and `:limit` parameters of a search or count.
pub(super) fn search_params(search: &str, first: u32, max: u32) -> [(&'static str, Param); 3] {
    [
        ("search", Param::Text(search_pattern(search))),
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
        fn any_search_gives_a_well_formed_pattern(text in ".{0,60}") {
            // Every `!` escapes something and no `_` is left unescaped.
            let _ = unescape(&search_pattern(&text));
        }
    }
}
