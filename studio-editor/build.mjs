// Builds the studio's editor bundle into hundred/web/studio/static/: studio.js, studio.css and
// studio.LICENSES.txt (the licence of every npm package inside the bundle, read from the package).
// Deterministic: the same lockfile and sources give the same bytes (tests/test_studio_bundle.py).
//
//   npm ci && npm run build          (or: ./build.sh)
//   node build.mjs --out DIR         (build elsewhere, e.g. to compare with the committed files)
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(here, "..", "hundred", "web", "studio", "static"));
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { studio: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox115", "safari16"],
  outdir: out,
  metafile: true,
  legalComments: "none",
  charset: "utf8",
  sourcemap: false,
  logLevel: "warning",
});

// Every package whose code is in the bundle, with its licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (!match) continue;
  const root = join(here, "node_modules", match[1]);
  if (packages.has(match[1])) continue;
  const meta = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const file = readdirSync(root).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  const text = file ? readFileSync(join(root, file), "utf8").trim() : `License: ${meta.license} (no licence file in the package)`;
  packages.set(match[1], { version: meta.version, license: meta.license, text });
}
const names = [...packages.keys()].sort();
let notice =
  "The studio's editor bundle (studio.js, studio.css) contains these npm packages, built by\n" +
  "studio-editor/build.mjs from studio-editor/package-lock.json. Their licences follow.\n\n";
for (const name of names) {
  const p = packages.get(name);
  notice += `${"=".repeat(78)}\n${name} ${p.version} (${p.license})\n${"=".repeat(78)}\n${p.text}\n\n`;
}
writeFileSync(join(out, "studio.LICENSES.txt"), notice);
if (!existsSync(join(out, "studio.css"))) writeFileSync(join(out, "studio.css"), "");
console.log(`built ${names.length} packages into ${out}`);
