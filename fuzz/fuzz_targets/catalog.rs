//! Catalog files in the project's own format, from any bytes read as lossy
//! UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;

use flowlint::catalog::CatalogSet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = CatalogSet::parse_catalog(&text, "fuzz.toml");
});
