//! SQL with `:name` parameters, parsed once and rendered per dialect.

use super::{DbError, Dialect, Param};

/// SQL with `:name` parameters, parsed once at startup.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
    /// Planned anew with its values on every run (see [`Template::planned_per_run`]).
    per_run: bool,
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Param(String),
}

impl Template {
    /// Finds `:name` parameters, skipping string literals, quoted
    /// identifiers, comments and PostgreSQL `::` casts.
    pub fn parse(sql: &str) -> Self {
        let chars: Vec<char> = sql.chars().collect();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match c {
                '\'' | '"' | '`' => {
                    let end = closing_quote(&chars, i, c);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                '-' if next == Some('-') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&ch| ch == '\n')
                        .map_or(chars.len(), |p| i + p);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                '/' if next == Some('*') => {
                    let end = (i + 2..chars.len().saturating_sub(1))
                        .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                        .map_or(chars.len(), |j| j + 2);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                ':' if next == Some(':') => {
                    text.push_str("::");
                    i += 2;
                }
                ':' if next.is_some_and(|n| n.is_ascii_alphabetic() || n == '_') => {
                    let start = i + 1;
                    let end = (start..chars.len())
                        .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                        .unwrap_or(chars.len());
                    if !text.is_empty() {
                        pieces.push(Piece::Sql(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Param(chars[start..end].iter().collect()));
                    i = end;
                }
                _ => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Sql(text));
        }
        Self {
            pieces,
            per_run: false,
        }
    }

    /// This template, planned by PostgreSQL with the values of each run
    /// instead of prepared once per connection. A prepared statement may
    /// switch to a generic plan, made without the values, after five runs,
    /// and a generic plan cannot turn `LIKE $1` into a range of a prefix
    /// index: every search would read the whole table. Lookups keep their
    /// prepared statements, whose generic plans use their indexes.
    pub fn planned_per_run(mut self) -> Self {
        self.per_run = true;
        self
    }

    /// True for a template made with [`Template::planned_per_run`].
    pub fn is_planned_per_run(&self) -> bool {
        self.per_run
    }

    /// The parameter names used, in order of appearance (with repeats).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param(name) => Some(name.as_str()),
            Piece::Sql(_) => None,
        })
    }

    /// SQL in the dialect's placeholder syntax and the values to bind, in order.
    pub(super) fn render(
        &self,
        dialect: Dialect,
        params: &[(&str, Param)],
    ) -> Result<(String, Vec<Bind>), DbError> {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => sql.push_str(text),
                Piece::Param(name) => {
                    let value = params
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| {
                            DbError::Config(format!("unknown query parameter :{name}"))
                        })?;
                    let values: Vec<Bind> = match value {
                        Param::Text(s) => vec![Bind::Text(s.clone())],
                        Param::Int(n) => vec![Bind::Int(*n)],
                        // An empty IN () is a syntax error; NULL matches nothing.
                        Param::TextList(list) if list.is_empty() => vec![Bind::Null],
                        Param::TextList(list) => list.iter().cloned().map(Bind::Text).collect(),
                    };
                    for (k, value) in values.into_iter().enumerate() {
                        if k > 0 {
                            sql.push_str(", ");
                        }
                        binds.push(value);
                        match dialect {
                            Dialect::Postgres => sql.push_str(&format!("${}", binds.len())),
                            Dialect::MySql | Dialect::Sqlite => sql.push('?'),
                        }
                    }
                }
            }
        }
        Ok((sql, binds))
    }
}

/// End index (exclusive) of a quoted run starting at `start`; a doubled
/// quote inside is an escaped quote.
fn closing_quote(chars: &[char], start: usize, quote: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

#[derive(Debug)]
pub(super) enum Bind {
    Null,
    Text(String),
    Int(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sql: &str, dialect: Dialect, params: &[(&str, Param)]) -> String {
        Template::parse(sql)
            .render(dialect, params)
            .expect("renders")
            .0
    }

    #[test]
    fn named_parameters_become_numbered_placeholders_on_postgres() {
        let sql = render(
            "SELECT * FROM u WHERE a = :x OR b = :x LIMIT :n",
            Dialect::Postgres,
            &[("x", Param::Text("v".into())), ("n", Param::Int(3))],
        );
        assert_eq!(sql, "SELECT * FROM u WHERE a = $1 OR b = $2 LIMIT $3");
    }

    #[test]
    fn named_parameters_become_question_marks_on_mysql_and_sqlite() {
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            let sql = render("WHERE a = :x", dialect, &[("x", Param::Int(1))]);
            assert_eq!(sql, "WHERE a = ?");
        }
    }

    #[test]
    fn casts_literals_and_comments_are_not_parameters() {
        let sql =
            "SELECT id::text, ':no' AS \":nope\" -- :comment\n/* :block */ FROM t WHERE x = :yes";
        let template = Template::parse(sql);
        assert_eq!(template.param_names().collect::<Vec<_>>(), vec!["yes"]);
        let rendered = template
            .render(Dialect::Postgres, &[("yes", Param::Int(1))])
            .expect("renders")
            .0;
        assert_eq!(rendered, sql.replace(":yes", "$1"));
    }

    #[test]
    fn list_parameters_expand_to_one_placeholder_per_item() {
        let params = [(
            "ids",
            Param::TextList(vec!["a".into(), "b".into(), "c".into()]),
        )];
        assert_eq!(
            render("IN (:ids)", Dialect::Postgres, &params),
            "IN ($1, $2, $3)"
        );
        assert_eq!(render("IN (:ids)", Dialect::MySql, &params), "IN (?, ?, ?)");
    }

    #[test]
    fn an_empty_list_matches_nothing_instead_of_breaking_syntax() {
        let params = [("ids", Param::TextList(vec![]))];
        let (sql, binds) = Template::parse("IN (:ids)")
            .render(Dialect::Sqlite, &params)
            .expect("renders");
        assert_eq!(sql, "IN (?)");
        assert!(matches!(binds.as_slice(), [Bind::Null]));
    }

    #[test]
    fn an_unknown_parameter_is_an_error_naming_it() {
        let err = Template::parse("WHERE a = :mystery")
            .render(Dialect::Sqlite, &[])
            .expect_err("unknown parameter");
        assert!(err.to_string().contains(":mystery"));
    }
}
