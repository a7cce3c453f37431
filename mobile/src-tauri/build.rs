//! Tauri's build step: reads `tauri.conf.json` and the capabilities for `generate_context!`.

fn main() {
    tauri_build::build()
}
