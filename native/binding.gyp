{
  "targets": [
    {
      "target_name": "sluice_native",
      "sources": ["sluice_native.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=c11"],
      "libraries": ["-ldl"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"],
          "cflags": ["-O2"]
        }
      }
    }
  ]
}
