//! Line and column of a place in a text (for parse errors of HCL policies,
//! password policies and configuration).

use std::fmt;

/// A 1-based line and column in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number (in characters), starting at 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the text).
    pub fn from_offset(text: &str, offset: usize) -> Position {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }

    /// The position of the start of an optional byte span.
    pub fn of_span(text: &str, span: Option<std::ops::Range<usize>>) -> Option<Position> {
        span.map(|s| Position::from_offset(text, s.start))
    }

    /// `" on line L, column C"` when a position is known, else `""`.
    pub fn suffix(pos: &Option<Position>) -> String {
        pos.map(|p| format!(" on {p}")).unwrap_or_default()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "ab\ncdé\nf";
        assert_eq!(
            Position::from_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::from_offset(text, 5),
            Position { line: 2, column: 3 }
        );
        assert_eq!(
            Position::from_offset(text, 6),
            Position { line: 2, column: 3 },
            "inside a multi-byte char"
        );
        assert_eq!(
            Position::from_offset(text, 99),
            Position { line: 3, column: 2 }
        );
        assert_eq!(
            Position::suffix(&Some(Position { line: 2, column: 7 })),
            " on line 2, column 7"
        );
    }
}
