//! Writing CSV as RFC 4180 says (cells with a comma, quote or line break quoted,
//! quotes doubled, CRLF between records), and safe to open in a spreadsheet: a cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
//! formula by Excel, LibreOffice and Google Sheets (OWASP's "CSV injection"), so it
//! gets a leading `'`, which they show as text. The data exported comes from API
//! callers and email recipients, so any cell may be hostile.

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as a spreadsheet will show it: formula starts neutralised.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) { format!("'{cell}").into() } else { cell.into() }
}

/// One cell as written in the file.
fn write_cell(out: &mut Vec<u8>, cell: &str) {
    let cell = neutralise(cell);
    if cell.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// Appends one record (header or data row) to `out`.
pub fn write_record<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(out, cell.as_ref());
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cells: &[&str]) -> String {
        let mut out = Vec::new();
        write_record(&mut out, cells);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cells_are_quoted_only_when_they_must_be() {
        assert_eq!(record(&["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(
            record(&["Acme, Inc", "say \"hi\"", "two\nlines"]),
            "\"Acme, Inc\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn formula_starts_are_shown_as_text() {
        for hostile in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(hostile).starts_with('\''), "{hostile:?}");
        }
        assert_eq!(record(&["=HYPERLINK(\"http://x\",\"y\")"]), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
        assert_eq!(record(&["\rcmd"]), "\"'\rcmd\"\r\n", "neutralised, then quoted for the line break");
        assert_eq!(neutralise("a=b"), "a=b", "only the first character matters");
    }

    #[test]
    fn the_csv_crate_reads_back_what_was_written() {
        let cells = ["x,y", "\"q\"", "l1\r\nl2", "plain"];
        let text = record(&cells) + &record(&cells);
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        for row in reader.records() {
            let row = row.unwrap();
            assert_eq!(row.iter().collect::<Vec<_>>(), cells);
        }
    }
}
