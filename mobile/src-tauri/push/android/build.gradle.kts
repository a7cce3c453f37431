// The Android half of the in-repo `switchboard-push` Tauri plugin (see ../README.md).
plugins {
  id("com.android.library")
  id("org.jetbrains.kotlin.android")
}

android {
  namespace = "com.switchboard.push"
  compileSdk = 34
  defaultConfig { minSdk = 24 }
  compileOptions {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
  }
  kotlinOptions { jvmTarget = "1.8" }
}

dependencies {
  implementation(project(":tauri-android"))
  implementation("androidx.core:core-ktx:1.13.1")
  implementation("com.google.firebase:firebase-messaging:24.0.0")
}
