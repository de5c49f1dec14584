export { CONFIG_ENTRIES, CONFIG_BY_KEY, type ConfigKey, type ConfigValues } from './registry.js';
export { loadConfig, envName, ENV_PREFIX, type Config, type LoadConfigOptions } from './load.js';
export { renderConfigDocs } from './docs.js';
export { closestKey, formatValue, parseValue, type ConfigEntry, type ConfigType } from './types.js';
