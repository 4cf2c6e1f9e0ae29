import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { CONFIG_FLAGS, flagsToConfig } from '../src/config/flags.js';
import { buildConfig, loadConfigFile, resolveConfig } from '../src/config/load.js';
import type { RunConfig } from '../src/config/schemas.js';
import { METHODS, methodFlags, methodNamed } from '../src/methods/registry.js';

/** `config` as the variant of `method`, failing the test when it is another. */
function variant<M extends RunConfig['method']>(config: RunConfig, method: M): Extract<RunConfig, { method: M }> {
  expect(config.method).toBe(method);
  return config as Extract<RunConfig, { method: M }>;
}

/** The flags of the method named `name`, with their full config paths. */
const flagsOf = (name: string) => methodFlags(methodNamed(name)!);

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/config/${name}`, import.meta.url));

/** Runs `fn`, expecting a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  const error: unknown = await promise.then(
    () => expect.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

// The specified defaults, written out by hand rather than read back from the schema.
const SGD_DEFAULTS = { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4, noDecayBnBias: false };

describe('defaults', () => {
  it('are typed for code: a misspelt key or an unknown method does not compile, and is refused when run anyway', () => {
    // @ts-expect-error batchSze is not a key of a run config
    expect(() => buildConfig(undefined, { method: 'kd', teachers: ['t.ckpt'], batchSze: 32 })).toThrow(ConfigError);
    // @ts-expect-error 'kdd' is not a method
    expect(() => buildConfig(undefined, { method: 'kdd' })).toThrow(ConfigError);
  });

  it('fill every option from the documented defaults', () => {
    expect(buildConfig(undefined, { method: 'supervised' })).toEqual({
      method: 'supervised',
      model: { arch: 'resnet20' },
      data: {
        dataset: 'fashion-mnist',
        dataDir: '/usr/share/datasets/fashion-mnist',
        augment: { pad: 2, flip: false },
        image: { size: 224, resize: 256, scale: [0.08, 1], ratio: [3 / 4, 4 / 3], dctScaling: true },
        badFiles: 'error',
        channelsLast: false,
        workers: 0,
        prefetch: 4,
        mean: [0.286],
        std: [0.353],
      },
      optimizer: SGD_DEFAULTS,
      schedule: { type: 'cosine', minLr: 0, warmupEpochs: 0, warmupStartFactor: 1 / 3 },
      epochs: 10,
      batchSize: 128,
      evalBatchSize: 512,
      seed: 0,
      device: 'cpu',
      precision: 'fp32',
      lossScale: { initScale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 },
      cudnnBenchmark: false,
      threads: 0,
      limits: {},
      out: 'runs/supervised-resnet20',
      teachers: [],
      distributed: { backend: 'auto', syncBatchNorm: false, bucketCapMb: 25, timeoutSeconds: 1800 },
      resume: false,
      resumeWithChanges: false,
      checkpointEvery: 1,
      evalEvery: 1,
    });
  });

  it("give each method its own section, with its documented defaults, and no other method's", () => {
    const adversarial = {
      adversarial: true,
      discriminator: { minWidth: 2, outputRelu: false },
      update: 'joint',
      discriminatorSteps: 1,
      discriminatorLr: 1e-3,
      teacherTrainMode: false,
      grlScale: 1,
    };
    const sections: Record<string, unknown> = {
      kd: { temperature: 4, ceWeight: 0.1, kdWeight: 0.9 },
      meal: {
        blocks: [{ name: 'logits', weight: 1, adversarialWeight: 1, discriminator: true }],
        pooling: 'max',
        similarity: 'ce',
        temperature: 1,
        teacherSelection: 'random',
        ceWeight: 0,
        ...adversarial,
      },
      mealv2: adversarial,
      one: { branches: 3, temperature: 3, rampUp: 80, klWeight: 1 },
      search: { temperature: 4, l1: 5e-2 },
      dkd: { temperature: 1, ceWeight: 1, alpha: 0.5, beta: 0.5, warmup: 1 },
    };
    expect(METHODS.map((m) => m.name)).toEqual(['supervised', 'kd', 'meal', 'mealv2', 'one', 'search', 'dkd']);
    for (const { name, teachers } of METHODS) {
      const config = buildConfig(undefined, {
        method: name,
        ...(teachers === 'none' ? {} : { teachers: ['t.ckpt'] }),
      }) as unknown as Record<string, unknown>;
      const own = METHODS.map((m) => m.name).filter((other) => other in config);
      expect(own, name).toEqual(name in sections ? [name] : []);
      if (name in sections) expect(config[name], name).toEqual(sections[name]);
    }
    expect(configError(() => resolveConfig(undefined, { method: 'kd', teachers: ['t.ckpt'], meal: { update: 'grl' } })).message).toMatch(
      /^unknown key 'meal' \(valid keys: .*, method, kd\)$/,
    );
  });

  it("fill AdamW's own defaults when only the type is chosen", () => {
    const config = buildConfig(undefined, { method: 'supervised', optimizer: { type: 'adamw' } });
    expect(config.optimizer).toEqual({
      type: 'adamw',
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
      noDecayBnBias: false,
    });
  });

  it('name the output directory after method and architecture unless given', () => {
    const kd = { method: 'kd', teachers: ['t.ckpt'] };
    expect(resolveConfig(undefined, { ...kd, ...flagsToConfig({ arch: 'resnet8' }) }).out).toBe('runs/kd-resnet8');
    expect(resolveConfig(undefined, { ...kd, ...flagsToConfig({ out: 'elsewhere' }) }).out).toBe('elsewhere');
  });
});

describe('config files and flags', () => {
  it('file + flags equal the same settings given as flags alone', async () => {
    const file = await loadConfigFile(fixture('kd-run.yaml'));
    const fromFile = buildConfig(file, flagsToConfig({ epochs: '5', lr: '0.01', batchSize: '64' }));
    const fromFlags = buildConfig(undefined, {
      ...flagsToConfig(
        {
          arch: 'resnet8',
          epochs: '5',
          optimizer: 'adamw',
          lr: '0.01',
          batchSize: '64',
          teachers: 'teachers/resnet56.ckpt, teachers/resnet110.ckpt',
          temperature: '2',
        },
        flagsOf('kd'),
      ),
      // The CLI's subcommand supplies the method, and augmentation has no flag.
      method: 'kd',
      data: { augment: { flip: true } },
    });
    expect(fromFile).toEqual(fromFlags);
    expect(fromFile).toMatchObject({
      epochs: 5,
      batchSize: 64,
      optimizer: { type: 'adamw', lr: 0.01, weightDecay: 0.01 },
      kd: { temperature: 2, ceWeight: 0.1 },
      out: 'runs/kd-resnet8',
    });
  });

  it('a flag that switches optimizer or schedule type replaces that section of the file', () => {
    const file = {
      method: 'supervised',
      optimizer: { type: 'adamw', betas: [0.8, 0.99] },
      schedule: { type: 'multistep', milestones: [5] },
    };
    const config = resolveConfig(file, flagsToConfig({ optimizer: 'sgd', schedule: 'cosine' }));
    expect(config.optimizer).toEqual(SGD_DEFAULTS);
    expect(config.schedule).toEqual({ type: 'cosine', minLr: 0, warmupEpochs: 0, warmupStartFactor: 1 / 3 });
  });

  it('YAML and JSON files give the same configuration', async () => {
    const yaml = buildConfig(await loadConfigFile(fixture('kd-run.yaml')), {});
    const json = buildConfig(await loadConfigFile(fixture('kd-run.json')), {});
    expect(yaml).toEqual(json);
    expect(yaml).toMatchObject({
      method: 'kd',
      model: { arch: 'resnet8' },
      epochs: 3,
      optimizer: { type: 'adamw', lr: 0.002 },
      teachers: ['teachers/resnet56.ckpt', 'teachers/resnet110.ckpt'],
      data: { augment: { pad: 2, flip: true } },
    });
  });

  it('an empty YAML file means no settings', async () => {
    expect(await loadConfigFile(fixture('empty.yaml'))).toEqual({});
  });

  it('a missing file is E_FILE_NOT_FOUND naming the path', async () => {
    const path = fixture('no-such-run.yaml');
    const error = await configErrorAsync(loadConfigFile(path));
    expect(error.code).toBe('E_FILE_NOT_FOUND');
    expect(error.message).toContain(path);
  });

  it('rejects other extensions, malformed YAML and non-mapping documents, naming the file', async () => {
    const toml = await configErrorAsync(loadConfigFile('run.toml'));
    expect(toml.message).toMatch(/run\.toml.*'\.toml'.*\.yml, \.yaml or \.json/);
    const broken = await configErrorAsync(loadConfigFile(fixture('broken.yaml')));
    expect(broken.message).toMatch(/broken\.yaml' is not valid YAML/);
    const list = await configErrorAsync(loadConfigFile(fixture('list.yaml')));
    expect(list.message).toMatch(/list\.yaml': expected a mapping/);
  });
});

describe('validation errors', () => {
  it('name an unknown key by its dotted path and suggest the closest valid key', () => {
    const error = configError(() => resolveConfig({ method: 'supervised', data: { augmnt: { pad: 1 } } }, {}));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe("unknown key 'data.augmnt' (did you mean 'augment'?)");
  });

  it('judge unknown keys against the chosen variant of a discriminated section', () => {
    const error = configError(() => resolveConfig({ method: 'supervised', optimizer: { type: 'adamw', momentum: 0.9 }, epoch: 3 }, {}));
    expect(error.problems).toEqual([
      "unknown key 'optimizer.momentum' (valid keys: type, lr, betas, eps, weightDecay, noDecayBnBias)",
      "unknown key 'epoch' (did you mean 'epochs'?)",
    ]);
  });

  it('name every bad value by its path with what was expected and what was given', () => {
    const error = configError(() =>
      resolveConfig(
        {
          method: 'supervised',
          epochs: 0,
          device: 'gpu',
          data: { augment: { pad: 1.5 }, mean: [0.5, 'x'], std: [0.5, 0.5] },
          optimizer: { type: 'adam' },
          schedule: { type: 'step' },
          batchSize: '128',
        },
        {},
      ),
    );
    expect([...error.problems].sort()).toEqual(
      [
        'epochs: expected a value >= 1, got 0',
        "device: expected 'cpu', 'cuda' or 'cuda:<index>', got 'gpu'",
        'data.augment.pad: expected an integer, got 1.5',
        "data.mean[1]: expected a number, got 'x'",
        "optimizer.type: expected one of 'sgd', 'adamw', got 'adam'",
        'schedule.stepSize: required (expected a number)',
        "batchSize: expected a number, got '128'",
      ].sort(),
    );
    expect(error.message).toMatch(/^7 configuration problems:\n {2}- /);
  });

  it('reject kd without teachers, naming teachers', () => {
    const error = configError(() => buildConfig(undefined, { method: 'kd' }));
    expect(error.problems).toHaveLength(1);
    expect(error.message).toMatch(/^teachers: distillation needs at least one teacher checkpoint/);
  });

  it('report kd without teachers alongside unrelated errors', () => {
    const error = configError(() => buildConfig(undefined, { method: 'kd', epochs: -1 }));
    expect(error.problems.map((p) => p.split(':')[0])).toEqual(['epochs', 'teachers']);
  });

  it('take MEAL blocks as bare names or as objects, and name a bad one by its path', () => {
    const config = variant(
      buildConfig(undefined, { method: 'meal', teachers: ['t.ckpt'], ...flagsToConfig({ blocks: 'layer3,logits' }, flagsOf('meal')) }),
      'meal',
    );
    expect(config.meal.blocks.map((b) => b.name)).toEqual(['layer3', 'logits']);
    const mixed = variant(
      buildConfig(undefined, {
        method: 'meal',
        teachers: ['t.ckpt'],
        meal: { blocks: ['logits', { name: 'layer2', length: 64, weight: 0.1 }] },
      }),
      'meal',
    );
    expect(mixed.meal.blocks[1]).toEqual({ name: 'layer2', length: 64, weight: 0.1, adversarialWeight: 1, discriminator: true });
    expect(
      configError(() => resolveConfig(undefined, { method: 'meal', teachers: ['t.ckpt'], meal: { update: 'sometimes' } })).message,
    ).toMatch(/^meal\.update: /);
    expect(configError(() => buildConfig(undefined, { method: 'mealv2' })).message).toMatch(/^teachers: distillation needs/);
  });

  it("take ONE's options from flags, need no teachers for it, and name a bad branch count", () => {
    const config = variant(
      buildConfig(undefined, { method: 'one', ...flagsToConfig({ branches: '4', rampUp: '0', oneTemperature: '2' }, flagsOf('one')) }),
      'one',
    );
    expect(config.one).toEqual({ branches: 4, temperature: 2, rampUp: 0, klWeight: 1 });
    expect(config.out).toBe('runs/one-resnet20');
    expect(configError(() => buildConfig(undefined, { method: 'one', one: { branches: 1 } })).message).toMatch(/^one\.branches: /);
    expect(configError(() => buildConfig(undefined, { method: 'one', teachers: ['t.ckpt'] })).message).toBe(
      "teachers: this method reads no teachers: leave 'teachers' out",
    );
  });

  it('read search budgets with K/M/G suffixes, and want exactly one teacher and at most one budget', () => {
    expect(flagsToConfig({ budgetParams: '0.1M', budgetFlops: '75k', archSpec: 'found.json' }, flagsOf('search'))).toEqual({
      model: { archSpec: 'found.json' },
      search: { budgetParams: 100_000, budgetFlops: 75_000 },
    });
    expect(configError(() => flagsToConfig({ budgetParams: '10x' }, flagsOf('search'))).message).toMatch(
      /^--budget-params: expected a number with an optional K, M or G suffix/,
    );
    const two = configError(() =>
      buildConfig(undefined, { method: 'search', teachers: ['a.ckpt', 'b.ckpt'], search: { budgetParams: 1, budgetFlops: 1 } }),
    );
    expect(two.problems.map((p) => p.split(':')[0])).toEqual(['search.budgetFlops', 'teachers']);
  });

  it('require a method', () => {
    expect(configError(() => buildConfig(undefined, {})).message).toBe(
      "method: required (expected one of 'supervised', 'kd', 'meal', 'mealv2', 'one', 'search', 'dkd')",
    );
  });
});

describe('flags', () => {
  it('map each flag to its config path', () => {
    expect(
      flagsToConfig(
        {
          arch: 'resnet8',
          dataset: 'mnist',
          dataDir: '/data/mnist',
          epochs: '3',
          batchSize: '32',
          lr: '5e-2',
          seed: '7',
          device: 'cuda:1',
          threads: '4',
          out: 'runs/x',
          teachers: 'a.ckpt,b.ckpt',
          trainLimit: '1000',
          resume: true,
          temperature: '3.5',
          ceWeight: '.25',
          kdWeight: '0.75',
          optimizer: 'sgd',
          weightDecay: '1e-4',
          momentum: '0.8',
          schedule: 'onecycle',
          json: true, // not a config flag: ignored
        },
        flagsOf('kd'),
      ),
    ).toEqual({
      model: { arch: 'resnet8' },
      data: { dataset: 'mnist', dataDir: '/data/mnist', trainLimit: 1000 },
      epochs: 3,
      batchSize: 32,
      optimizer: { type: 'sgd', lr: 0.05, momentum: 0.8, weightDecay: 1e-4 },
      schedule: { type: 'onecycle' },
      seed: 7,
      device: 'cuda:1',
      threads: 4,
      out: 'runs/x',
      teachers: ['a.ckpt', 'b.ckpt'],
      kd: { temperature: 3.5, ceWeight: 0.25, kdWeight: 0.75 },
      resume: true,
    });
  });

  it('read options as commander stores them', () => {
    const program = new Command().exitOverride();
    for (const { flag, kind, description } of [...CONFIG_FLAGS, ...flagsOf('kd')]) {
      program.option(kind === 'switch' ? flag : `${flag} <value>`, description);
    }
    program.parse(['--batch-size', '64', '--data-dir', '/d', '--ce-weight', '0.3', '--resume', '--train-limit', '9'], {
      from: 'user',
    });
    expect(flagsToConfig(program.opts(), flagsOf('kd'))).toEqual({
      batchSize: 64,
      data: { dataDir: '/d', trainLimit: 9 },
      kd: { ceWeight: 0.3 },
      resume: true,
    });
  });

  it('parse numbers strictly and name the flag', () => {
    const message = (flags: Record<string, string>): string => configError(() => flagsToConfig(flags, flagsOf('kd'))).message;
    expect(message({ epochs: '10x' })).toBe("--epochs: expected an integer, got '10x'");
    expect(message({ epochs: '2.5' })).toBe("--epochs: expected an integer, got '2.5'");
    expect(message({ lr: '0x10' })).toBe("--lr: expected a number, got '0x10'");
    expect(message({ lr: '' })).toBe("--lr: expected a number, got ''");
    expect(message({ kdWeight: 'Infinity' })).toBe("--kd-weight: expected a number, got 'Infinity'");
  });

  it('report every bad flag at once', () => {
    expect(configError(() => flagsToConfig({ seed: 'one', teachers: ' , ', batchSize: true })).problems).toEqual([
      '--batch-size: expected a value',
      "--seed: expected an integer, got 'one'",
      '--teachers: expected a comma-separated list, got nothing',
    ]);
  });

  it('leave range checks to the schema, which names the config path', () => {
    const flags = flagsToConfig({ threads: '-1' });
    expect(configError(() => buildConfig(undefined, { method: 'supervised', ...flags })).message).toBe(
      'threads: expected a value >= 0, got -1',
    );
  });
});
