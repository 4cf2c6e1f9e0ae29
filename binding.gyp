{
  "targets": [
    {
      "target_name": "distillery",
      "sources": ["<!@(node scripts/native-build.mjs sources)"],
      "include_dirs": ["native", "<!@(node scripts/native-build.mjs gyp include_dirs)", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "<!@(node scripts/native-build.mjs gyp defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["<!@(node scripts/native-build.mjs gyp std)", "-fexceptions", "-frtti", "-O2", "<!@(node scripts/native-build.mjs gyp cflags)"],
      "libraries": ["<!@(node scripts/native-build.mjs gyp libraries)"],
      "ldflags": ["<!@(node scripts/native-build.mjs gyp ldflags)"]
    }
  ]
}
