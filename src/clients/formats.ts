import type { ConfigFormat } from './catalog.js';
import { jsonEditor } from './format-json.js';
import { yamlEditor } from './format-yaml.js';
import { tomlEditor } from './format-toml.js';
import type { FormatEditor } from './format-common.js';

export { UnparsableFile, deepEqual, isPlainObject, type FormatEditor } from './format-common.js';

/** The editor of a client's config format: JSONC (format-json.ts), YAML (format-yaml.ts), TOML (format-toml.ts). */
export function editorFor(format: ConfigFormat): FormatEditor {
  switch (format) {
    case 'json':
      return jsonEditor;
    case 'yaml-map':
      return yamlEditor(false);
    case 'yaml-array':
      return yamlEditor(true);
    case 'toml':
      return tomlEditor;
  }
}
