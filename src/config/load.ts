import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './errors.js';
import { describeIssues } from './issues.js';
import { type ConfigPatch, mergeConfig } from './merge.js';
import { NAMED_DATASETS } from './datasets.js';
import type { RunConfigInput } from './schemas.js';
import { RunConfig } from './schemas.js';

/** A validated run configuration whose output directory has been resolved. */
export type ResolvedRunConfig = RunConfig & { out: string };

// YAML's warnings (an unknown directive, say) mean the file is not what its author thinks: refused
// like errors. Aliases are capped, so a few lines cannot expand into gigabytes.
function parseYaml(text: string): unknown {
  const document = YAML.parseDocument(text);
  const problem = [...document.errors, ...document.warnings][0];
  if (problem) throw problem;
  return document.toJS({ maxAliasCount: 100 });
}

/** Reads a YAML (.yml, .yaml) or JSON (.json) config file into an unvalidated mapping. */
export async function loadConfigFile(path: string): Promise<ConfigPatch> {
  const extension = extname(path).toLowerCase();
  if (!['.yml', '.yaml', '.json'].includes(extension)) {
    throw new ConfigError([`config file '${path}': unsupported extension '${extension}' (expected .yml, .yaml or .json)`]);
  }
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new ConfigError([`config file not found: '${path}'`], 'E_FILE_NOT_FOUND');
    throw new ConfigError([`config file '${path}': ${error.message}`]);
  });
  let parsed: unknown;
  try {
    parsed = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const format = extension === '.json' ? 'JSON' : 'YAML';
    throw new ConfigError([`config file '${path}' is not valid ${format}: ${(error as Error).message}`]);
  }
  // An empty YAML document parses to null: treat it as "no settings".
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`config file '${path}': expected a mapping of settings at the top level`]);
  }
  return parsed as ConfigPatch;
}

/** Every key optional, all the way down; lists (and tuples) stay whole, since a patch replaces them. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A run config as code writes it: any part of what a config file may hold, typed, so a misspelt key
 * (`batchSze`) or an unknown method (`'kdd'`) is a compile error; values are checked when built.
 */
export type RunConfigPatch = DeepPartial<RunConfigInput>;

/**
 * Builds a run config: `overrides` on `base` (a file's settings, or code's), then the defaults;
 * throws ConfigError naming every bad key and value.
 */
export function buildConfig(base: RunConfigPatch | undefined, overrides: RunConfigPatch = {}): ResolvedRunConfig {
  return resolveConfig(base as ConfigPatch | undefined, overrides as ConfigPatch);
}

/** buildConfig for patches whose shape is not known yet (a config file, parsed flags): the CLI's. */
export function resolveConfig(fileConfig: ConfigPatch | undefined, flags: ConfigPatch): ResolvedRunConfig {
  const merged = withDatasetDefaults(mergeConfig(fileConfig ?? {}, flags));
  const result = RunConfig.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, RunConfig, merged));
  return { ...result.data, out: result.data.out ?? defaultOutDir(result.data) };
}

// A named dataset's directory and normalisation fill in whatever the user left unset; the schema's
// own defaults are Fashion-MNIST's.
function withDatasetDefaults(config: ConfigPatch): ConfigPatch {
  const data = config.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return config;
  const dataset = (data as Record<string, unknown>).dataset;
  const named =
    typeof dataset === 'string' && Object.hasOwn(NAMED_DATASETS, dataset)
      ? NAMED_DATASETS[dataset as keyof typeof NAMED_DATASETS]
      : undefined;
  if (named === undefined) return config;
  if (named.dirHint !== undefined && (data as Record<string, unknown>).dataDir === undefined) {
    throw new ConfigError([`data.dataDir: required when data.dataset is '${dataset}' (${named.dirHint})`]);
  }
  return mergeConfig({ data: named.defaults }, config);
}

/** Where a run writes when no `out` is given: runs/<method>-<arch>. */
export function defaultOutDir(config: Pick<RunConfig, 'method' | 'model'>): string {
  return `runs/${config.method}-${config.model.arch}`;
}
