// swift-tools-version:5.5
// The iOS half of the in-repo `switchboard-push` Tauri plugin (see ../README.md).

import PackageDescription

let package = Package(
  name: "switchboard-push",
  platforms: [.iOS(.v13)],
  products: [
    .library(name: "switchboard-push", type: .static, targets: ["switchboard-push"])
  ],
  dependencies: [
    // The Tauri iOS API package, as `tauri ios init` lays it out for plugins.
    .package(name: "Tauri", path: "../.tauri/tauri-api")
  ],
  targets: [
    .target(name: "switchboard-push", dependencies: [.byName(name: "Tauri")], path: "Sources")
  ]
)
