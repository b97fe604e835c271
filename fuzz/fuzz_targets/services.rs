//! `services` files (Unix and Windows syntax), from any bytes read as lossy
//! UTF-8, applied to the built-in catalogs as `--services` does.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use flowlint::catalog::{CatalogSet, Services};
use flowlint::decode::Transport;

fn catalogs() -> &'static CatalogSet {
    static CATALOGS: OnceLock<CatalogSet> = OnceLock::new();
    CATALOGS.get_or_init(|| CatalogSet::load(&[]).expect("built-in catalogs load"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(services) = Services::parse(&text, "fuzz.services") {
        let _ = services.port("jmnet", Transport::Tcp);
        let mut set = catalogs().clone();
        set.apply_services(&services);
    }
});
