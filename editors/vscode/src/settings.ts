// The settings object sent to the server (initializationOptions and answers
// to workspace/configuration). Pure.

/** Keys of the `cudalens` section that only the extension reads. */
const EXTENSION_ONLY = ['server', 'trace'];

type Json = Record<string, unknown>;

/**
 * The `cudalens` section as the server wants it: plain JSON, without the
 * extension's own keys, and with `trustWorkspace` following VS Code's
 * Workspace Trust (VS Code asks the user, so the server must not ask again).
 */
export function serverSettings(section: unknown, isTrusted: boolean): Json {
  const plain: Json =
    section !== null && typeof section === 'object' ? (JSON.parse(JSON.stringify(section)) as Json) : {};
  for (const key of EXTENSION_ONLY) delete plain[key];
  plain.trustWorkspace = isTrusted;
  return plain;
}

export function initializationOptions(section: unknown, isTrusted: boolean): Json {
  return { cudalens: serverSettings(section, isTrusted) };
}
