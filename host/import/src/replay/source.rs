//! Reading a Stack Exchange dump file as a stream of `<row .../>` elements: finding `Name.xml`, `Name.xml.xz` or
//! `Name.xml.gz` in the site folder, decompressing on the fly (`xz2`, `flate2`) and parsing with `quick-xml`
//! (no DOM: one row in memory at a time). Also the dump's date format.
//!
//! Does not know what the rows mean (see `dump`).
//!
//! Bounded: a row's element may hold at most [`MAX_ROW_BYTES`] of XML (a guard under the parser stops the read
//! there, so a small `.xz` that expands to one gigantic attribute costs a few megabytes, not gigabytes), and one
//! attribute at most [`MAX_ATTRIBUTE_BYTES`] once unescaped. Either error names the file, the row and the field.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use quick_xml::events::Event as XmlEvent;

use super::ReplayError;

/// Most bytes of XML one row's element may take: 4 MiB. Stack Exchange caps a post body at 30,000 characters and a
/// user's "about me" at a few thousand; a row a hundred times that is not a dump row.
pub const MAX_ROW_BYTES: u64 = 4 << 20;

/// Most bytes one attribute may hold once unescaped: 1 MiB (see [`MAX_ROW_BYTES`]).
pub const MAX_ATTRIBUTE_BYTES: usize = 1 << 20;

/// Counts the bytes read since the parser last started on an element, and refuses to read past [`MAX_ROW_BYTES`]
/// of them (plus the read-ahead of the buffer above it).
struct RowGuard {
    inner: Box<dyn Read>,
    since_row: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Read for RowGuard {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // The buffer above reads ahead by up to its capacity, so the limit allows for one buffer's worth.
        if self.since_row.get() > MAX_ROW_BYTES + (1 << 18) {
            return Err(std::io::Error::other(format!("a row longer than {MAX_ROW_BYTES} bytes (4 MiB, the limit)")));
        }
        let read = self.inner.read(buf)?;
        self.since_row.set(self.since_row.get() + read as u64);
        Ok(read)
    }
}

/// The attribute being read when a row was cut off: the last `name="` in the partial element.
fn field_in(partial: &[u8]) -> String {
    // The last `="` preceded by a name is where the value being read when the row was cut off opened.
    let mut field = String::new();
    for at in 1..partial.len() {
        if partial[at - 1] == b'=' && partial[at] == b'"' {
            let start = partial[..at - 1].iter().rposition(|b| !b.is_ascii_alphanumeric()).map_or(0, |p| p + 1);
            if start < at - 1 {
                field = String::from_utf8_lossy(&partial[start..at - 1]).into_owned();
            }
        }
    }
    field
}

/// Where a dump file is, and how it is compressed.
#[derive(Debug, Clone)]
pub struct DumpFile {
    /// The file.
    pub path: PathBuf,
}

impl DumpFile {
    /// `dir/name.xml`, `.xml.xz` or `.xml.gz`, whichever exists (in that order).
    pub fn find(dir: &Path, name: &str) -> Result<DumpFile, ReplayError> {
        for suffix in ["xml", "xml.xz", "xml.gz"] {
            let path = dir.join(format!("{name}.{suffix}"));
            if path.is_file() {
                return Ok(DumpFile { path });
            }
        }
        Err(ReplayError::Missing { dir: dir.to_owned(), name: name.to_owned() })
    }

    /// `dir/name.xml[.xz|.gz]` if present.
    pub fn find_optional(dir: &Path, name: &str) -> Option<DumpFile> {
        DumpFile::find(dir, name).ok()
    }

    /// The file name, for messages.
    pub fn name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// A streaming reader of its rows.
    pub fn rows(&self) -> Result<Rows, ReplayError> {
        let io = |source| ReplayError::Io { path: self.path.clone(), source };
        let file = File::open(&self.path).map_err(io)?;
        let name = self.name();
        // 256 KiB buffers: the compressed and the decompressed streams are read sequentially.
        let raw: Box<dyn Read> = if name.ends_with(".xz") {
            Box::new(xz2::read::XzDecoder::new(BufReader::with_capacity(1 << 18, file)))
        } else if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 18, file)))
        } else {
            Box::new(file)
        };
        let since_row = std::rc::Rc::new(std::cell::Cell::new(0));
        let guarded: Box<dyn Read> = Box::new(RowGuard { inner: raw, since_row: since_row.clone() });
        let reader = quick_xml::Reader::from_reader(BufReader::with_capacity(1 << 18, guarded));
        Ok(Rows { reader, buf: Vec::with_capacity(4096), file: self.path.clone(), row: 0, since_row })
    }
}

/// The rows of one dump file, in file order.
pub struct Rows {
    reader: quick_xml::Reader<BufReader<Box<dyn Read>>>,
    buf: Vec<u8>,
    file: PathBuf,
    row: u64,
    since_row: std::rc::Rc<std::cell::Cell<u64>>,
}

/// One `<row .../>`: its attributes, unescaped.
#[derive(Debug, Default, Clone)]
pub struct Row {
    /// 1-based position of the row in its file (rows are one per line in the dumps, after two header lines).
    pub number: u64,
    attributes: Vec<(String, String)>,
}

impl Row {
    /// The attribute `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every attribute, in the row's order (name, unescaped value).
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// Take the attribute `name` out of the row (for large values such as bodies).
    pub fn take(&mut self, name: &str) -> Option<String> {
        let index = self.attributes.iter().position(|(n, _)| n == name)?;
        Some(self.attributes.swap_remove(index).1)
    }
}

impl Rows {
    /// The next row, or `None` at the end of the file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row>, ReplayError> {
        loop {
            self.buf.clear();
            self.since_row.set(0);
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => {
                    let field = field_in(&self.buf);
                    let detail = if field.is_empty() { e.to_string() } else { format!("field {field}: {e}") };
                    return Err(ReplayError::Xml { file: self.file.clone(), row: self.row + 1, detail });
                }
            };
            match event {
                XmlEvent::Empty(element) | XmlEvent::Start(element) if element.name().as_ref() == b"row" => {
                    self.row += 1;
                    let mut row = Row { number: self.row, attributes: Vec::with_capacity(16) };
                    for attribute in element.attributes() {
                        let bad = |detail: String| ReplayError::Xml { file: self.file.clone(), row: self.row, detail };
                        let attribute = attribute.map_err(|e| bad(e.to_string()))?;
                        let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
                        let value = attribute.unescape_value().map_err(|e| bad(format!("field {name}: {e}")))?;
                        if value.len() > MAX_ATTRIBUTE_BYTES {
                            return Err(bad(format!(
                                "field {name}: {} bytes, more than the {MAX_ATTRIBUTE_BYTES} (1 MiB) an attribute may hold",
                                value.len()
                            )));
                        }
                        row.attributes.push((name, Cow::into_owned(value)));
                    }
                    return Ok(Some(row));
                }
                XmlEvent::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// The file being read.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

/// A dump date (`2021-04-27T15:06:44.553`, UTC) as milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut hh, mut mm, mut ss, mut ms) = (0, 0, 0, 0);
    if b.len() >= 19 {
        if b[10] != b'T' {
            return None;
        }
        (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if b.len() > 20 && b[19] == b'.' {
            // `b[19]` is ASCII, so byte 20 starts a character.
            let fraction = &text[20..];
            if !fraction.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            // Milliseconds from a fraction of any length: its first three digits (`.5` is 500 ms, `.053` is 53 ms,
            // `.0539` is 53 ms; a fraction of 25 digits once overflowed a power of ten).
            ms = fraction.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |ms, c| ms * 10 + i64::from(c - b'0'));
        }
    }
    Some(days_from_civil(y, m, d) * 86_400_000 + ((hh * 60 + mm) * 60 + ss) * 1000 + ms)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Read a whole small file's rows through `f` (used for the pre-passes).
pub fn for_each_row(file: &DumpFile, mut f: impl FnMut(Row) -> Result<(), ReplayError>) -> Result<(), ReplayError> {
    let mut rows = file.rows()?;
    while let Some(row) = rows.next()? {
        f(row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(xml: &[u8]) -> (tempfile::TempDir, Rows) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Posts.xml"), xml).unwrap();
        let rows = DumpFile::find(dir.path(), "Posts").unwrap().rows().unwrap();
        (dir, rows)
    }

    #[test]
    fn a_row_longer_than_the_limit_is_refused_with_its_file_row_and_field_without_reading_it_all() {
        // Regresses issue 17: a 1 GiB attribute reached 2 GB of memory and failed naming no file or row.
        let mut xml =
            b"<?xml version=\"1.0\"?>\n<posts>\n  <row Id=\"1\" Body=\"ok\" />\n  <row Id=\"2\" Body=\"".to_vec();
        xml.extend(std::iter::repeat_n(b'x', (MAX_ROW_BYTES as usize) * 3));
        xml.extend_from_slice(b"\" />\n</posts>\n");
        let (_dir, mut rows) = rows_of(&xml);
        assert_eq!(rows.next().unwrap().unwrap().get("Body"), Some("ok"));
        let error = rows.next().unwrap_err().to_string();
        assert!(error.contains("Posts.xml") && error.contains("row 2") && error.contains("field Body"), "{error}");
        assert!(error.contains("4 MiB"), "{error}");
    }

    #[test]
    fn an_attribute_over_its_limit_is_refused_with_its_file_row_and_field() {
        let mut xml = b"<posts><row Id=\"1\" Title=\"".to_vec();
        xml.extend(std::iter::repeat_n(b'y', MAX_ATTRIBUTE_BYTES + 1));
        xml.extend_from_slice(b"\" /></posts>");
        let (_dir, mut rows) = rows_of(&xml);
        let error = rows.next().unwrap_err().to_string();
        assert!(error.contains("Posts.xml") && error.contains("row 1") && error.contains("field Title"), "{error}");
    }

    #[test]
    fn dump_dates_become_milliseconds_since_the_epoch() {
        assert_eq!(parse_date("1970-01-01T00:00:00.000"), Some(0));
        assert_eq!(parse_date("2021-05-03T00:00:00.000"), Some(18_750 * 86_400_000));
        assert_eq!(parse_date("2021-05-03T00:00:01.5"), Some(18_750 * 86_400_000 + 1_500));
        assert_eq!(parse_date("2000-03-01"), Some(11_017 * 86_400_000));
        assert_eq!(parse_date("2021-05-03T00:00:01.0539"), Some(18_750 * 86_400_000 + 1_053));
        // Found by reading the fuzz target's way in: 22 digits of fraction overflowed `10_i64.pow(19)`.
        assert_eq!(parse_date("2021-05-03T00:00:01.0000000000000000000000001"), Some(18_750 * 86_400_000 + 1_000));
        assert_eq!(parse_date("2021-05-03T00:00:01.5x"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2021-13-01T00:00:00"), None);
    }

    #[test]
    fn rows_stream_from_plain_and_gzip_files_with_unescaped_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n  <row Id=\"1\" Body=\"&lt;p&gt;a &amp; b&lt;/p&gt;\" />\n  <row Id=\"2\" />\n</posts>\n";
        std::fs::write(dir.path().join("Posts.xml"), xml).unwrap();
        let plain = DumpFile::find(dir.path(), "Posts").unwrap();
        let mut rows = plain.rows().unwrap();
        let first = rows.next().unwrap().unwrap();
        assert_eq!((first.number, first.get("Id"), first.get("Body")), (1, Some("1"), Some("<p>a & b</p>")));
        assert_eq!(rows.next().unwrap().unwrap().get("Id"), Some("2"));
        assert!(rows.next().unwrap().is_none());

        let gz = dir.path().join("Votes.xml.gz");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, xml.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let mut count = 0;
        for_each_row(&DumpFile::find(dir.path(), "Votes").unwrap(), |_| {
            count += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn a_broken_row_is_reported_with_its_file_and_row_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Users.xml"), "<users>\n<row Id=\"1\" />\n<row Id=\"2 />\n</users>").unwrap();
        let mut rows = DumpFile::find(dir.path(), "Users").unwrap().rows().unwrap();
        rows.next().unwrap();
        let error = rows.next().unwrap_err().to_string();
        assert!(error.contains("Users.xml") && error.contains("row 2"), "{error}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = DumpFile::find(dir.path(), "Votes").unwrap_err().to_string();
        assert!(error.contains("Votes.xml"), "{error}");
    }
}
