//! The desktop binary: runs the app (phones enter through `lib.rs`'s mobile entry point).

// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    switchboard_app_lib::run()
}
