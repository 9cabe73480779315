/// <reference types="vitest/config" />
// The UI is built into the Python package, so `dagyard up` serves it without Node.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const OUT_DIR = "../dagyard/server/ui_dist";

/** Each script and style sheet of the build also as `<file>.br`, compressed once at the
 * highest level: the server sends it to browsers that accept Brotli (about a fifth
 * smaller than the gzip it makes on the fly). */
function brotliFiles(): Plugin {
  return {
    name: "dagyard-brotli",
    apply: "build",
    closeBundle() {
      const assets = join(OUT_DIR, "assets");
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const packed = brotliCompressSync(readFileSync(join(assets, name)), {
          params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
        });
        writeFileSync(join(assets, `${name}.br`), packed);
      }
    },
  };
}

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic" },
  plugins: [brotliFiles()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // Libraries mark their modules "use client" for server-rendering frameworks; a
      // client-only bundle has nothing to do with it.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` against a `dagyard up` on the default port.
    proxy: { "/apis": "http://127.0.0.1:8888" },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    setupFiles: ["src/testSetup.ts"],
    testTimeout: 30_000,
  },
});
