//! Helpers shared by the integration tests (each test file that needs
//! them says `mod common;`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The args and captures of every fixture expectation file.
pub fn fixture_runs() -> Vec<(String, Vec<String>)> {
    let mut runs = Vec::new();
    for dir in ["fixtures", "fixtures/demo", "fixtures/hostile"] {
        let mut names: Vec<PathBuf> = fs::read_dir(root().join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.ends_with(".expect.json") || n.ends_with(".outcome.json")
            })
            .collect();
        names.sort();
        for path in names {
            let doc: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            let strings = |k: &str| -> Vec<String> {
                doc[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            };
            let stem = path.file_name().unwrap().to_string_lossy();
            let stem = stem.split('.').next().unwrap();
            let name = match dir {
                "fixtures" => stem.to_string(),
                _ => format!("{}-{stem}", dir.rsplit('/').next().unwrap()),
            };
            let mut args = strings("args");
            args.extend(strings("captures"));
            runs.push((name, args));
        }
    }
    assert!(runs.len() >= 20, "fixtures not found: {}", runs.len());
    runs
}
