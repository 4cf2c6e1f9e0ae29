// Options shared by the commands: config flags, --config, --json, --quiet, and config resolution.
import type { Command } from 'commander';
import { Option } from 'commander';

import { ConfigError } from '../config/errors.js';
import type { ConfigFlag } from '../config/flags.js';
import { CONFIG_FLAGS, flagsToConfig } from '../config/flags.js';
import type { ResolvedRunConfig } from '../config/load.js';
import { loadConfigFile, resolveConfig } from '../config/load.js';
import type { ConfigPatch } from '../config/merge.js';
import { mergeConfig } from '../config/merge.js';
import { methodFlags, methodNamed } from '../methods/registry.js';
import type { MethodDefinition } from '../train/method.js';

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

function optionOf(flag: ConfigFlag, description = flag.description): Option {
  return new Option(flag.kind === 'switch' ? flag.flag : `${flag.flag} <value>`, description);
}

/**
 * Adds --config, the common config flags and the flags of `methods`. Every method's flags are
 * accepted, but help lists only those of `shown` (the method named on the command line).
 */
export function addConfigOptions(command: Command, methods: readonly MethodDefinition[] = [], shown?: MethodDefinition): Command {
  command.option('--config <file>', 'YAML or JSON config file; flags override it');
  for (const flag of CONFIG_FLAGS) command.addOption(optionOf(flag));
  const added = new Set<string>();
  const visible = shown ?? (methods.length === 1 ? methods[0] : undefined);
  for (const method of [...(visible ? [visible] : []), ...methods]) {
    for (const flag of method.flags) {
      if (added.has(flag.flag)) continue;
      added.add(flag.flag);
      const option = optionOf(flag, methods.length > 1 ? `${method.name}: ${flag.description}` : flag.description);
      command.addOption(method === visible ? option : option.hideHelp());
    }
  }
  return addOutputOptions(command);
}

/**
 * Builds the run config from --config and flags. `defaults` apply where neither says otherwise
 * (distill's method), `overrides` win over both (train is always supervised). Method flags are read
 * for the run's method; one that belongs only to other methods is an error naming them.
 */
export async function resolveRunConfig(
  options: Record<string, unknown>,
  overrides: ConfigPatch,
  defaults: ConfigPatch = {},
  methods: readonly MethodDefinition[] = [],
): Promise<ResolvedRunConfig> {
  const file = typeof options.config === 'string' ? await loadConfigFile(options.config) : undefined;
  const name = [overrides.method, file?.method, defaults.method].find((m) => typeof m === 'string');
  const method = typeof name === 'string' ? methodNamed(name) : undefined;
  const raw = options as Record<string, string | boolean | undefined>;
  const foreign = methods
    .filter((m) => m !== method)
    .flatMap((m) => m.flags.map((flag) => ({ flag, owner: m.name })))
    .filter(({ flag }) => raw[flag.key] !== undefined && !(method?.flags ?? []).some((f) => f.flag === flag.flag));
  if (foreign.length > 0) {
    const owners = new Map<string, string[]>();
    for (const { flag, owner } of foreign) owners.set(flag.flag, [...(owners.get(flag.flag) ?? []), owner]);
    throw new ConfigError(
      [...owners].map(
        ([flag, names]) =>
          `${flag}: not an option of method '${method?.name ?? name}' (it belongs to ${names.map((n) => `'${n}'`).join(' and ')})`,
      ),
    );
  }
  const flags = flagsToConfig(raw, method ? methodFlags(method) : []);
  const limits = options.limit as ConfigPatch | undefined;
  return resolveConfig(mergeConfig(defaults, file ?? {}), mergeConfig(mergeConfig(flags, limits ? { limits } : {}), overrides));
}

/** The method named on the command line (`--method X` or `--method=X`), if any: for help. */
export function methodOnCommandLine(argv: readonly string[]): MethodDefinition | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--method') return methodNamed(argv[i + 1] ?? '');
    if (arg.startsWith('--method=')) return methodNamed(arg.slice('--method='.length));
  }
  return undefined;
}
