//! Line and column of byte offsets in a policy's text, in time linear in the
//! text overall.
//!
//! Every path block and attribute keeps its position for error messages.
//! Computing each one from the start of the text
//! ([`Position::from_offset`]) scans everything before it, so a policy of N
//! blocks took O(N²) time (6 s at 16,000 blocks, about a minute at 50,000).
//! A [`LineIndex`] records where each line starts once; a position is then
//! a binary search plus a count of the characters before it on its line.

use crate::error::Position;
use crate::work;
use std::ops::Range;

/// Where each line of a text starts, for turning byte offsets into
/// 1-based line and column numbers.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the first byte of each line; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`: one pass over its bytes.
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        work::add(text.len());
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped to the text, moved back to a
    /// character boundary), the same as [`Position::from_offset`] gives.
    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        // The last line starting at or before `end`; `starts[0] == 0`, so
        // the partition point is at least 1.
        let line = self.starts.partition_point(|&s| s <= end);
        let line_start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let before = self.text.get(line_start..end).unwrap_or_default();
        work::add(before.len());
        Position {
            line: line.max(1),
            column: before.chars().count() + 1,
        }
    }

    /// The position of the start of an optional byte span.
    pub(crate) fn of_span(&self, span: Option<Range<usize>>) -> Option<Position> {
        span.map(|s| self.position(s.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_position_from_offset_everywhere() {
        for text in [
            "",
            "a",
            "\n",
            "ab\ncdé f\n",
            "\n\nx\r\ny\n\n",
            "é\nà\n\u{1F600}z",
        ] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    index.position(offset),
                    Position::from_offset(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn spans() {
        let index = LineIndex::new("ab\ncd");
        assert_eq!(index.of_span(None), None);
        assert_eq!(
            index.of_span(Some(4..5)),
            Some(Position { line: 2, column: 2 })
        );
    }
}
