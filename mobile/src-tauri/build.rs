//! Tauri's build step: reads `tauri.conf.json` and the capabilities for `generate_context!`,
//! which embeds the built UI, so a missing `mobile/ui/dist` is said here in plain words.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.exists() {
        println!(
            "cargo:warning=mobile/ui/dist is missing: build the UI first with \
             `cd mobile/ui && npm ci && npm run build` (scripts/run-app does it for you)"
        );
        std::process::exit(1);
    }
    tauri_build::build()
}
