// Build of the dashboard: static files in dist/, served by S3 + CloudFront or the local stack.
import { defineConfig } from "vite";

export default defineConfig({
  // JSX through Preact's automatic runtime (tsconfig's jsxImportSource), no Babel plugin.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
  },
  server: {
    // `npm run dev` next to `make dev`: the API and the local helpers are the local stack's.
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/_local": "http://127.0.0.1:8080",
      "/config.json": "http://127.0.0.1:8080",
    },
  },
});
