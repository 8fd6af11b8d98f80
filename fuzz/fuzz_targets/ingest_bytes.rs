//! Arbitrary bytes as a return, through ingest's own path: nothing may escape it. A panic
//! inside calamine is caught there and becomes a finding (calamine's CFB reader panics on
//! malformed OLE files, the first thing this target found); a panic in tonghop's own code
//! is a crash here; aborts, out-of-memory and hangs are crashes either way.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tonghop::definition::{self, Plan};
use tonghop::ingest;
use tonghop::workbook::Caps;

fn pipeline() -> &'static Plan {
    static DEF: OnceLock<Plan> = OnceLock::new();
    DEF.get_or_init(|| {
        let text = include_str!("../../pipelines/ptdv_monthly.toml");
        definition::parse(std::path::Path::new("ptdv_monthly.toml"), text).expect("the shipped pipeline loads")
    })
}

thread_local! {
    /// Where the last panic happened, if anywhere.
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fuzz_target!(|bytes: &[u8]| {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| l.file().to_string()).unwrap_or_default();
            PANIC_AT.with(|p| *p.borrow_mut() = Some(at));
        }))
    });
    let caps = Caps { max_file_bytes: 1 << 20, max_cells: 200_000, max_unzipped_bytes: 20 << 20, max_zip_ratio: 200 };
    let _ = ingest::read_isolated(pipeline(), "fuzz.xlsx", bytes, caps);
    if let Some(at) = PANIC_AT.with(|p| p.borrow_mut().take()) {
        // Panics in dependencies are caught by design; ours are bugs.
        assert!(at.contains("/.cargo/registry/"), "tonghop panicked at {at}");
    }
});
