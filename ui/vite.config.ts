/// <reference types="vitest/config" />
// The console's build: a static bundle under /app/ (served by the service, api/console.py).
// The typed client is imported from ../clients/typescript by path alias; its one runtime
// dependency, openapi-fetch, resolves from this package's node_modules.
import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  resolve: {
    alias: {
      "@client": here("../clients/typescript/src"),
      "@": here("./src"),
      "openapi-fetch": here("./node_modules/openapi-fetch"),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // One entry chunk; no inline script or style (the service's CSP forbids inline script).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: Object.fromEntries(
      ["/channels", "/directory", "/settings", "/audit"].map((p) => [
        p,
        process.env.SMS_CHANNELS_URL ?? "http://127.0.0.1:8000",
      ]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["tests/unit/**/*.test.tsx", "tests/unit/**/*.test.ts"],
    setupFiles: ["tests/unit/setup.ts"],
  },
});
