// Options shared by the commands: config flags, --config, --json, --quiet, and config resolution.
import type { Command } from 'commander';

import { CONFIG_FLAGS, flagsToConfig } from '../config/flags.js';
import type { ResolvedRunConfig } from '../config/load.js';
import { buildConfig, loadConfigFile } from '../config/load.js';
import type { ConfigPatch } from '../config/merge.js';
import { mergeConfig } from '../config/merge.js';

/** Output switches every command takes. */
export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Adds --json and --quiet. */
export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print exactly one JSON object on stdout (progress still goes to stderr)')
    .option('--quiet', 'no progress output');
}

/** Adds --config and every config flag. */
export function addConfigOptions(command: Command): Command {
  command.option('--config <file>', 'YAML or JSON config file; flags override it');
  for (const flag of CONFIG_FLAGS) {
    command.option(flag.kind === 'switch' ? flag.flag : `${flag.flag} <value>`, flag.description);
  }
  return addOutputOptions(command);
}

/**
 * Builds the run config from --config and flags. `defaults` apply where neither says otherwise
 * (distill's method), `overrides` win over both (train is always supervised).
 */
export async function resolveRunConfig(options: Record<string, unknown>, overrides: ConfigPatch, defaults: ConfigPatch = {}): Promise<ResolvedRunConfig> {
  const file = typeof options.config === 'string' ? await loadConfigFile(options.config) : undefined;
  const flags = flagsToConfig(options as Record<string, string | boolean | undefined>);
  return buildConfig(mergeConfig(defaults, file ?? {}), mergeConfig(flags, overrides));
}
