/// <reference types="vitest/config" />
// The UI is built into the Python package, so `dagyard up` serves it without Node.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "../dagyard/server/ui_dist",
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
