// What `require('distillery')` gets: distillery is an ES module (top-level await, import.meta), so
// CommonJS callers must load it with import(); say so instead of Node's ERR_PACKAGE_PATH_NOT_EXPORTED.
throw new Error(
  "distillery is ESM-only: load it with `const distillery = await import('distillery')` (or use ES modules: \"type\": \"module\" or .mjs), not require()",
);
