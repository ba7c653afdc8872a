//! Column layout like Vault's CLI (the `columnize` package with a four-space glue
//! and `n/a` for empty cells), with the `Key`/`---` header underline of Vault's
//! `tableOutput`.

/// Space between columns.
const GLUE: &str = "    ";
/// Printed for an empty cell.
const EMPTY: &str = "n/a";

/// Lays out rows in aligned columns. Cells are trimmed; empty cells become `n/a`;
/// the last cell of a row is not padded.
pub fn columns(rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| {
                    let c = c.trim();
                    if c.is_empty() {
                        EMPTY.to_owned()
                    } else {
                        c.to_owned()
                    }
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let lines: Vec<String> = cells
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                    line.push_str(GLUE);
                }
            }
            line.trim_end().to_owned()
        })
        .collect();
    lines.join("\n")
}

/// A table with a header row underlined by dashes of the header's width.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut all = Vec::with_capacity(rows.len() + 2);
    all.push(header.iter().map(|h| (*h).to_owned()).collect());
    all.push(
        header
            .iter()
            .map(|h| "-".repeat(h.chars().count()))
            .collect(),
    );
    all.extend(rows);
    columns(&all)
}

/// A `Key`/`Value` table.
pub fn key_value(rows: Vec<(String, String)>) -> String {
    table(
        &["Key", "Value"],
        rows.into_iter().map(|(k, v)| vec![k, v]).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_table_matches_vaults_layout() {
        let out = key_value(vec![
            ("created_time".into(), "2022-06-15T20:23:40.067093Z".into()),
            ("custom_metadata".into(), "<nil>".into()),
            ("deletion_time".into(), "".into()),
            ("destroyed".into(), "false".into()),
            ("version".into(), "1".into()),
        ]);
        assert_eq!(
            out,
            "Key                Value\n\
             ---                -----\n\
             created_time       2022-06-15T20:23:40.067093Z\n\
             custom_metadata    <nil>\n\
             deletion_time      n/a\n\
             destroyed          false\n\
             version            1"
        );
    }

    #[test]
    fn multi_column_table_and_unicode_width() {
        let out = table(
            &["Path", "Type"],
            vec![
                vec!["cubbyhole/".into(), "cubbyhole".into()],
                vec!["é/".into(), "kv".into()],
            ],
        );
        assert_eq!(
            out,
            "Path          Type\n----          ----\ncubbyhole/    cubbyhole\né/            kv"
        );
    }

    #[test]
    fn columns_without_header() {
        assert_eq!(
            columns(&[
                vec!["Key Term".into(), "1".into()],
                vec!["Install Time".into(), "x".into()]
            ]),
            "Key Term        1\nInstall Time    x"
        );
    }
}
