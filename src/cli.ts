#!/usr/bin/env node
// The distillery command line: train, distill, search, refine, eval, convert, export, bench-loader, cache-teachers, quickstart.
import { availableParallelism } from 'node:os';

import { Command, CommanderError, Option } from 'commander';

import {
  BenchLoaderOptions,
  CacheTeachersOptions,
  ConvertOptions,
  EvalOptions,
  ExportOptions,
  LaunchOptions,
  QuickstartOptions,
  RefineOptions,
  parseCommandOptions,
} from './config/commands.js';
import { ConfigError } from './config/errors.js';
import { parseLimitFlag } from './config/limits.js';
import type { Limits } from './native.js';
import { setLimits } from './runtime.js';
import { DistilleryError } from './errors.js';
import { VERSION } from './version.js';
import { readRecord } from './io/checkpoint.js';
import { benchLoaderCommand } from './cli/bench-loader.js';
import { buildCommand } from './cli/build.js';
import { cacheTeachersCommand } from './cli/cache-teachers.js';
import { convertCommand } from './cli/convert.js';
import { doctorCommand } from './cli/doctor.js';
import { evalCommand } from './cli/eval.js';
import { exportCommand } from './cli/export.js';
import { launchCommand } from './cli/launch.js';
import type { OutputOptions } from './cli/options.js';
import { addConfigOptions, addOutputOptions, methodOnCommandLine, resolveRunConfig } from './cli/options.js';
import { quickstartCommand } from './cli/quickstart.js';
import { refineCommand } from './cli/refine.js';
import { runCommand } from './cli/run-command.js';
import { searchCommand } from './cli/search.js';
import { methodNamed, methodsOf } from './methods/registry.js';

let output: OutputOptions = {};

function fail(error: unknown): never {
  if (error instanceof CommanderError) {
    // Help and version exit cleanly; usage errors were already printed by commander.
    if (error.exitCode === 0) process.exit(0);
    if (process.argv.includes('--json'))
      process.stdout.write(`${JSON.stringify({ error: { code: 'E_CONFIG', message: error.message } })}\n`);
    process.exit(2);
  }
  const known = error instanceof DistilleryError;
  const code = known ? error.code : 'E_INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  if (output.json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  process.stderr.write(`distillery: ${message} [${code}]\n`);
  if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(error instanceof ConfigError ? 2 : code === 'E_INTERRUPTED' ? 130 : 1);
}

const program = new Command('distillery')
  .description('Knowledge distillation on LibTorch: train teachers, distill them into one student, evaluate, export')
  .version(VERSION, '-V, --version', 'print the version of distillery')
  .showHelpAfterError()
  .enablePositionalOptions()
  .exitOverride();

const trainMethods = methodsOf('train');
addConfigOptions(
  program.command('train').description('train a network with cross-entropy on the labels (e.g. a teacher)'),
  trainMethods,
).action(async (options: Record<string, unknown>) => {
  output = options;
  await runCommand(await resolveRunConfig(options, { method: 'supervised' }, {}, trainMethods), output);
});

const distillMethods = methodsOf('distill');
const shownMethod = methodOnCommandLine(process.argv.slice(2)) ?? methodNamed('kd');
addConfigOptions(
  program
    .command('distill')
    .description(
      `distill teachers (--teachers a.ckpt,b.ckpt) into a student, or train one online (--method one); ` +
        `the options listed are ${shownMethod?.name}'s (\`distillery distill --method NAME --help\` lists another's). Methods:\n` +
        distillMethods.map((m) => `  ${m.name.padEnd(8)} ${m.summary}`).join('\n'),
    )
    .addOption(
      new Option('--method <method>', "distillation method (default: the config file's, else kd)").choices(
        distillMethods.map((m) => m.name),
      ),
    ),
  distillMethods,
  shownMethod,
).action(async (options: Record<string, unknown>) => {
  output = options;
  const method = typeof options.method === 'string' ? { method: options.method } : {};
  const config = await resolveRunConfig(options, method, { method: 'kd' }, distillMethods);
  if (methodNamed(config.method)?.command !== 'distill') {
    throw new ConfigError([
      `method: '${config.method}' is not a distillation method; use \`distillery ${methodNamed(config.method)?.command}\` for it, or set --method kd`,
    ]);
  }
  await runCommand(config, output);
});

const searchMethods = methodsOf('search');
addConfigOptions(
  program
    .command('search')
    .description(
      'find a student inside a teacher: gate its channels and blocks, keep the largest subnetwork within a budget (writes found.json)',
    )
    .requiredOption('--teacher <checkpoint>', 'the teacher to search inside (a CIFAR ResNet checkpoint)'),
  searchMethods,
).action(async (options: Record<string, unknown>) => {
  output = options;
  const teacher = String(options.teacher);
  const record = readRecord(teacher);
  if (record === undefined)
    throw new DistilleryError(
      `${teacher} is not a distillery checkpoint or weights file: search needs to know the teacher's network`,
      'E_ARGUMENT',
    );
  const config = await resolveRunConfig(
    options,
    {
      method: 'search',
      teachers: [teacher],
      model: { arch: record.model.arch, init: teacher, ...(record.model.blocks ? { blocks: record.model.blocks } : {}) },
    },
    { optimizer: { weightDecay: 0 }, epochs: 3 },
    searchMethods,
  );
  await searchCommand(config, output);
});

addOutputOptions(
  program
    .command('eval')
    .description('evaluate a checkpoint, or several as an averaged-softmax ensemble, on the test split')
    .argument('<checkpoints...>', 'checkpoints or safetensors weights')
    .option('--data-dir <dir>', 'dataset directory', '/usr/share/datasets/fashion-mnist')
    .option('--batch-size <n>', 'evaluation batch size', '512')
    .option('--device <device>', 'cpu, cuda or cuda:<index>', 'cpu')
    .option('--threads <n>', 'intra-op threads (0: one per core)', '0')
    .option('--arch <arch>', 'architecture, for safetensors files without distillery metadata')
    .option('--in-channels <n>', 'input channels (with --arch)')
    .option('--num-classes <n>', 'classes (with --arch)'),
).action(async (checkpoints: string[], options: Record<string, unknown>) => {
  output = options;
  await evalCommand(checkpoints, parseCommandOptions(EvalOptions, options), output);
});

addOutputOptions(
  program
    .command('convert')
    .description('checkpoint -> safetensors weights (torchvision names), or safetensors -> checkpoint')
    .argument('<input>', 'a distillery checkpoint, or safetensors weights')
    .argument('<output>', 'the file to write')
    .option('--arch <arch>', 'architecture of a safetensors input without distillery metadata')
    .option('--in-channels <n>', 'input channels (with --arch)', '3')
    .option('--num-classes <n>', 'classes (with --arch)', '1000'),
).action(async (input: string, out: string, options: Record<string, unknown>) => {
  output = options;
  await convertCommand(input, out, parseCommandOptions(ConvertOptions, options), output);
});

addOutputOptions(
  program
    .command('refine')
    .description('relabel (or drop) training samples a confident teacher ensemble disagrees with; writes a labels file for --labels')
    .requiredOption('--teachers <checkpoints>', 'comma-separated teacher checkpoints')
    .requiredOption('--out <file>', 'the labels file to write (safetensors)')
    .option('--data-dir <dir>', 'dataset directory', '/usr/share/datasets/fashion-mnist')
    .option('--threshold <p>', 'ensemble confidence at which a disagreeing label is acted on', '0.5')
    .addOption(
      new Option('--mode <mode>', "replace such labels with the ensemble's, or drop the samples")
        .choices(['relabel', 'drop'])
        .default('relabel'),
    )
    .option('--noise-rate <r>', 'inject this label noise first, as the runs that trained the teachers did')
    .addOption(new Option('--noise-type <type>', 'kind of injected noise').choices(['symmetric', 'pairflip']).default('symmetric'))
    .option('--noise-seed <n>', 'seed of the injected noise', '0')
    .option('--batch-size <n>', 'batch size', '512')
    .option('--device <device>', 'cpu, cuda or cuda:<index>', 'cpu')
    .option('--threads <n>', 'intra-op threads (0: one per core)', '0'),
).action(async (options: Record<string, unknown>) => {
  output = options;
  await refineCommand(parseCommandOptions(RefineOptions, options), output);
});

addOutputOptions(
  program
    .command('export')
    .description('write one branch of a ONE checkpoint as the plain network it is (<out>.ckpt and <out>.safetensors)')
    .argument('<checkpoint>', 'a checkpoint of `distill --method one`')
    .option('--branch <n>', 'the branch to export, from 1 (branch 1 is what ONE reports)', '1')
    .requiredOption('--out <path>', 'where to write, without extension'),
).action(async (checkpoint: string, options: Record<string, unknown>) => {
  output = options;
  await exportCommand(checkpoint, parseCommandOptions(ExportOptions, options), output);
});

addOutputOptions(
  program
    .command('bench-loader')
    .description('measure the native image loader: images/s, MB/s and mean JPEG decode scale on a folder of image files')
    .option('--data <dir>', 'an ImageFolder tree (one folder per class)')
    .option('--list <file>', 'or a file of path,label lines')
    .option('--threads <n>', 'loader threads (0: one per core)', '0')
    .option('--batch-size <n>', 'batch size', '256')
    .option('--size <n>', 'output size (RandomResizedCrop, or CenterCrop with --eval)', '224')
    .option('--resize <n>', 'shorter side before the centre crop (with --eval)', '256')
    .option('--eval', 'the evaluation transform (Resize + CenterCrop) instead of the training one')
    .option('--no-dct-scaling', 'always decode JPEGs at full resolution')
    .option('--images <n>', 'only the first n images')
    .option('--epochs <n>', 'passes over the images', '1')
    .option('--skip-bad-files', 'skip and count unreadable files instead of stopping'),
).action(async (options: Record<string, unknown>) => {
  output = options;
  await benchLoaderCommand(parseCommandOptions(BenchLoaderOptions, options), output);
});

addOutputOptions(
  program
    .command('cache-teachers')
    .description(
      'run the teacher ensemble once on K random crops of every training image and store its top-k soft labels (replayed by distill --soft-labels)',
    )
    .requiredOption('--teachers <checkpoints>', 'comma-separated teacher checkpoints')
    .requiredOption('--data <dir>', 'the ImageFolder dataset (its train/ split is cached)')
    .option('--list <file>', 'path,label lines of the training files, relative to <data>/train (as data.lists.train)')
    .requiredOption('--out <file>', 'the cache file to write')
    .option('--crops <k>', 'crops per image', '4')
    .option('--top-k <k>', 'probabilities kept per crop (the rest is spread evenly on replay)', '5')
    .option('--temperature <t>', 'softmax temperature of the stored probabilities: the KD temperature that replays them (MEAL V2: 1)', '4')
    .option('--logits', "also store the teachers' mean logits, which MEAL V2 needs")
    .option('--per-teacher', "also store each teacher's own top-k probabilities")
    .option('--seed <n>', 'seed of the crops (replayed exactly by a run with the same seed)', '0')
    .option('--image-size <n>', 'crop size', '224')
    .option('--no-flip', 'no horizontal flips')
    .option('--batch-size <n>', 'batch size', '256')
    .option('--device <device>', 'cpu, cuda or cuda:<index>', 'cpu')
    .option('--threads <n>', 'intra-op threads (0: one per core)', '0')
    .option('--workers <n>', 'loader threads (0: one per core)', '0'),
).action(async (options: Record<string, unknown>) => {
  output = options;
  const { flip, ...rest } = options;
  await cacheTeachersCommand(parseCommandOptions(CacheTeachersOptions, { ...rest, noFlip: flip === false }), output);
});

addOutputOptions(
  program
    .command('quickstart')
    .description('train teachers on Fashion-MNIST, distill a student with KD and MEAL, and print the comparison table')
    .option('--out <dir>', 'where the runs go', 'runs/quickstart')
    .option('--data-dir <dir>', 'Fashion-MNIST directory', '/usr/share/datasets/fashion-mnist')
    .option('--teachers <archs>', 'comma-separated teacher architectures', 'resnet20,resnet14')
    .option('--student <arch>', 'student architecture', 'resnet8')
    .option('--teacher-epochs <n>', 'epochs per teacher', '4')
    .option('--student-epochs <n>', 'epochs per student run', '4')
    .option('--train-limit <n>', 'training images (a seeded subset)', '20000')
    .option('--device <device>', 'cpu, cuda or cuda:<index>', 'cpu')
    .option('--threads <n>', 'intra-op threads (0: one per core)', '0')
    .option('--seed <n>', 'random seed', '0')
    .option('--no-resume', 'retrain even when finished runs are in --out'),
).action(async (options: Record<string, unknown>) => {
  output = options;
  await quickstartCommand(parseCommandOptions(QuickstartOptions, options), output);
});

addOutputOptions(
  program
    .command('build')
    .description('compile the addon against the LibTorch found here (when no prebuild fits), with progress; keeps only the addon')
    .option('--jobs <n>', 'parallel compile jobs (default: one per core)')
    .option('--keep', 'keep the intermediate build tree (build-distillery/)'),
).action(async (options: Record<string, unknown>) => {
  output = options;
  const jobs = options.jobs === undefined ? availableParallelism() : Number(options.jobs);
  if (!Number.isSafeInteger(jobs) || jobs < 1)
    throw new ConfigError([`--jobs: expected a positive integer, got '${String(options.jobs)}'`]);
  await buildCommand({ jobs, keep: options.keep === true }, output);
});

addOutputOptions(
  program
    .command('doctor')
    .description('report what this installation found: LibTorch, CUDA, cuDNN, GPUs, distributed backends, threads, datasets'),
).action((options: Record<string, unknown>) => {
  output = options;
  doctorCommand(output);
});

program
  .command('launch')
  .description('run a distillery command as N data-parallel ranks on this node (one process each), as torchrun does')
  .requiredOption('--nproc-per-node <n>', 'ranks on this node (CPU: Gloo; CUDA: one GPU each)')
  .option('--nnodes <n>', 'nodes in the job', '1')
  .option('--node-rank <r>', "this node's index, 0..nnodes-1", '0')
  .option('--master-addr <addr>', 'address of the node running rank 0', '127.0.0.1')
  .option('--master-port <port>', 'free TCP port on that node for the rendezvous', '29500')
  .argument('<command...>', 'the distillery command each rank runs, after --')
  .passThroughOptions()
  .action(async (command: string[], options: Record<string, unknown>) => {
    await launchCommand(parseCommandOptions(LaunchOptions, options), command);
  });

// Every command but launch (whose ranks take their own) and build reads files a user names: each takes --limit.
for (const command of program.commands.filter((c) => !['launch', 'build'].includes(c.name()))) {
  command.addOption(
    new Option(
      '--limit <name=value>',
      'raise or lower a resource limit, e.g. maxImagePixels=400M (repeatable; docs/errors.md, E_LIMIT)',
    ).argParser((text: string, previous: Partial<Limits> | undefined) => parseLimitFlag(text, previous)),
  );
}
program.hook('preAction', (_program, action) => {
  const limits = action.opts().limit as Partial<Limits> | undefined;
  if (limits) setLimits(limits);
});

program.parseAsync(process.argv).catch(fail);
