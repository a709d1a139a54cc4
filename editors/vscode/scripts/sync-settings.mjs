// Keeps package.json `contributes.configuration.properties` equal to the
// server's settings schema (server/cudalens/settings.schema.json, verbatim)
// plus the extension's own settings (scripts/extension-settings.json).
//   node scripts/sync-settings.mjs --write   rewrite package.json
//   node scripts/sync-settings.mjs --check   exit 1 when they differ (CI)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const here = (p) => new URL(p, import.meta.url);
const schemaFile = here('../../../server/cudalens/settings.schema.json');
const packageFile = here('../package.json');
const readJson = (url) => JSON.parse(readFileSync(url, 'utf8'));
const withoutComments = (obj) => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== '//'));

/** The schema's settings as VS Code's flat `cudalens.a.b` keys, whatever its nesting. */
export function flattenSchema(schema) {
  let props = schema.properties ?? {};
  const section = props.cudalens;
  if (Object.keys(props).length === 1 && section?.properties) props = section.properties;
  const out = {};
  const visit = (prefix, properties) => {
    for (const [key, value] of Object.entries(properties)) {
      const name = key.startsWith('cudalens.') || prefix ? `${prefix}${key}` : `cudalens.${key}`;
      // A group such as `inlayHints: {enable, accessCost}` becomes dotted keys.
      const isGroup = value.type === 'object' && value.properties && !value.additionalProperties;
      if (isGroup) visit(`${name}.`, value.properties);
      else out[name] = value;
    }
  };
  visit('', props);
  return out;
}

function expectedProperties() {
  if (!existsSync(schemaFile)) throw new Error(`${schemaFile.pathname} not found`);
  const server = flattenSchema(readJson(schemaFile));
  const extension = withoutComments(readJson(here('./extension-settings.json')));
  return { source: 'settings.schema.json', properties: { ...server, ...extension } };
}

function main(mode) {
  const pkg = readJson(packageFile);
  const { source, properties } = expectedProperties();
  const current = pkg.contributes.configuration.properties;
  if (mode === '--write') {
    pkg.contributes.configuration.properties = properties;
    writeFileSync(packageFile, JSON.stringify(pkg, null, 2) + '\n');
    console.log(`package.json: ${Object.keys(properties).length} settings from ${source}`);
    return 0;
  }
  const names = new Set([...Object.keys(current), ...Object.keys(properties)]);
  const differing = [...names].filter((n) => !isDeepStrictEqual(current[n], properties[n]));
  if (differing.length > 0) {
    console.error(`package.json settings differ from ${source}: ${differing.join(', ')}`);
    console.error('run: npm run settings:sync');
    return 1;
  }
  console.log(`package.json settings match ${source} (${names.size} settings)`);
  return 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  process.exit(main(process.argv[2] ?? '--check'));
}
