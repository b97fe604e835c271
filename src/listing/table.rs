//! Plain-text tables whose columns line up on a terminal whatever the values:
//! every column is as wide as its widest cell, measured in display columns
//! (East Asian wide characters such as 管理用サーバ count two), and the last
//! column is not padded (no trailing blanks).

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

/// Display width of `s` on a terminal (CJK wide characters count two).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Splits `text` at blanks into lines of at most `max` display columns (a
/// word longer than that gets a line of its own).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && width(&line) + 1 + width(word) > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A text table: a header row (optional) and rows of cells.
pub struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    /// Blanks between two columns.
    gap: usize,
}

impl Table {
    /// A table with this header row (pass no names for a table without one).
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        let header: Vec<String> = header.into_iter().map(Into::into).collect();
        Table {
            header: (!header.is_empty()).then_some(header),
            rows: Vec::new(),
            gap: 2,
        }
    }

    /// Adds one row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Has the table no rows?
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Column widths: the widest cell of each column (header included).
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = Vec::new();
        for row in self.header.iter().chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                let w = width(cell);
                match widths.get_mut(i) {
                    Some(max) => *max = (*max).max(w),
                    None => widths.push(w),
                }
            }
        }
        widths
    }

    /// Writes the table, each line starting with `indent`.
    pub fn write(&self, out: &mut dyn Write, indent: &str) -> io::Result<()> {
        let widths = self.widths();
        for row in self.header.iter().chain(&self.rows) {
            let mut line = String::from(indent);
            // Trailing empty cells add nothing (no trailing blanks).
            let last = row.iter().rposition(|c| !c.is_empty()).unwrap_or(0);
            for (i, cell) in row.iter().enumerate().take(last + 1) {
                line.push_str(cell);
                if i < last {
                    let pad = widths[i] - width(cell) + self.gap;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let lines = wrap("管理用サーバ は 管理 する", 8);
        assert!(lines.iter().all(|l| width(l) <= 12), "{lines:?}");
        assert_eq!(lines[0], "管理用サーバ");
        assert_eq!(wrap("a b c", 3), ["a b", "c"]);
    }

    #[test]
    fn columns_line_up_by_display_width() {
        let mut t = Table::new(["name", "ja", "en"]);
        t.row(["manager", "管理用サーバ", "management server"]);
        t.row(["agent", "エージェント", "agent"]);
        t.row(["x", "", "last"]);
        let mut out = Vec::new();
        t.write(&mut out, "  ").unwrap();
        let text = String::from_utf8(out).unwrap();
        let starts: Vec<usize> = text
            .lines()
            .map(|l| {
                // Display column where the third cell starts.
                let third = l.rfind("  ").unwrap() + 2;
                width(&l[..third])
            })
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(text.lines().all(|l| !l.ends_with(' ')));
    }
}
