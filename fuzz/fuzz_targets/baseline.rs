//! An earlier JSON report given to `--baseline`, from any bytes read as
//! lossy UTF-8; a report that parses is compared with a small analysis.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use flowlint::catalog::CatalogSet;
use flowlint::classify::{classify, ConversationTable};
use flowlint::report::baseline::{compare, Baseline};

fn catalogs() -> &'static CatalogSet {
    static CATALOGS: OnceLock<CatalogSet> = OnceLock::new();
    CATALOGS.get_or_init(|| CatalogSet::load(&[]).expect("built-in catalogs load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(baseline) = Baseline::parse(&text) {
        let current = classify(ConversationTable::default(), catalogs(), None);
        let _ = compare(&current, catalogs(), &baseline);
    }
});
