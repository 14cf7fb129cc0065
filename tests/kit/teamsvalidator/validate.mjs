// Validate a Teams manifest with Microsoft's own package (@microsoft/app-manifest), offline: the
// schema is the one bundled in the package for the manifest's version, never fetched.
// Usage: node validate.mjs manifest.json  -> prints {"version": ..., "errors": [...]}; exit 1 on errors.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const { AppManifestUtils, ManifestUtil } = require("@microsoft/app-manifest");

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
const pkgDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json"));
const version = manifest.manifestVersion;
const schemaPath = path.join(pkgDir, "build", "json-schemas", "teams", `v${version}`, "MicrosoftTeams.schema.json");
// The package's own workaround for an invalid regex escape in the published schema (see its fetchSchema).
const schema = JSON.parse(readFileSync(schemaPath, "utf8").replace(/\\a/g, "\\x07"));
const validate = AppManifestUtils?.validateAgainstSchema?.bind(AppManifestUtils)
  ?? ManifestUtil.validateManifestAgainstSchema.bind(ManifestUtil);
const errors = await validate(manifest, schema);
const packageVersion = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
process.stdout.write(JSON.stringify({ validator: `@microsoft/app-manifest@${packageVersion}`, schema: `v${version}`, errors }) + "\n");
process.exit(errors.length ? 1 : 0);
