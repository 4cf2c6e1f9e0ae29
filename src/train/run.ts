// The training loop shared by every method: data, student, optimizer, schedule, evaluation,
// atomic checkpoints each epoch, and resume from the last one.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import type { ResolvedRunConfig } from '../config/load.js';
import type { Dataset } from '../data/dataset.js';
import { DisposalScope, allOrNone } from '../scope.js';
import { Loader } from '../data/dataset.js';
import { augmentation, openSplit } from '../data/open.js';
import { injectLabelNoise } from '../data/label-noise.js';
import { seededSubset } from '../data/random.js';
import { rankEnvironment } from '../distributed/environment.js';
import { ProcessGroup } from '../distributed/process-group.js';
import { readArchSpec } from '../io/arch-spec.js';
import type { NamedPath } from '../io/input-guard.js';
import { refuseOverwritingInputs } from '../io/input-guard.js';
import { readLabelsFile } from '../io/labels-file.js';
import { RunLock, checkFreeSpace } from '../io/run-lock.js';
import { checkSoftLabelHeader } from '../io/soft-label-cache.js';
import { DistilleryError } from '../errors.js';
import type { CheckpointRecord, EpochRecord } from '../io/checkpoint.js';
import { CHECKPOINT_FORMAT, loadWeightsInto, readCheckpointRecord, recordMetadata, sameNetwork } from '../io/checkpoint.js';
import type { ModelSpec } from '../models/model.js';
import { Model, describeSpec } from '../models/model.js';
import { setCudnnBenchmark, setLimits, setSeed, setThreads } from '../runtime.js';
import { resumeChanges } from './resume-changes.js';
import { evaluate, evaluateMembers, evaluateOutputs } from './evaluate.js';
import type { MethodDefinition, MethodSession } from './method.js';
import type { TrainingEvents } from './events.js';
import { TypedEmitter } from './events.js';
import { createSchedule } from './schedules.js';
import { Trainer } from './trainer.js';

/** The outcome of a run; `top1`/`top5` are fractions on the full test split. */
export interface RunResult {
  method: string;
  arch: string;
  top1: number;
  top5: number;
  loss: number;
  params: number;
  /** Multiply-accumulates of one forward pass for one image of the dataset (every output of a ONE network). */
  flops: number;
  /** The student's spec, with ONE's branches or a searched student's blocks. */
  spec: ModelSpec;
  imagesPerSecond: number;
  /** Time spent in training epochs, over every session of a resumed run (evaluation excluded). */
  trainSeconds: number;
  seconds: number;
  epochs: number;
  checkpoint: string;
  history: EpochRecord[];
  /** Processes that trained together (data-parallel ranks; 1 when not distributed). */
  worldSize: number;
  /** Each teacher on the same test split (distillation runs). */
  teachers?: TeacherScore[];
  /** The teachers' averaged-softmax ensemble (distillation runs). */
  ensemble?: { top1: number; top5: number };
  /** Every output of a network with several (ONE: each branch, then the gated ensemble); `top1` is the first's. */
  outputs?: OutputScore[];
}

/** One output of a multi-output student on the test split. */
export interface OutputScore {
  name: string;
  top1: number;
  top5: number;
}

/** A teacher's test accuracy, for the run report. */
export interface TeacherScore {
  path: string;
  arch: string;
  top1: number;
  top5: number;
}

/** The file a run keeps its latest checkpoint in. */
export function checkpointPath(out: string): string {
  return join(out, 'checkpoint.ckpt');
}

function sameSpec(a: ModelSpec, b: ModelSpec): boolean {
  return sameNetwork(a, b) && (a.gated ?? false) === (b.gated ?? false);
}

/** The files a run reads that the user named, as the flags name them. */
function runInputs(config: ResolvedRunConfig): NamedPath[] {
  const named: [string | undefined, string][] = [
    [config.model.init, 'model.init (--init)'],
    [config.model.archSpec, 'model.archSpec (--arch-spec)'],
    [config.data.labels, 'data.labels (--labels)'],
    [config.data.softLabels, 'data.softLabels (--soft-labels)'],
  ];
  return [
    ...config.teachers.map((path) => ({ path, what: '--teachers' })),
    ...named.filter((entry): entry is [string, string] => entry[0] !== undefined).map(([path, what]) => ({ path, what })),
  ];
}

/** The training split with the labels the config asks for: injected noise, or a refined labels file. */
async function trainingLabels(trainSet: Dataset, config: ResolvedRunConfig): Promise<{ dataset: Dataset; keep?: Uint8Array }> {
  const { labelNoise, labels } = config.data;
  if (labelNoise) {
    const noisy = injectLabelNoise(trainSet.labels(), trainSet.info.numClasses, labelNoise);
    return { dataset: trainSet.withLabels(noisy.labels) };
  }
  if (labels === undefined) return { dataset: trainSet };
  const refined = await readLabelsFile(labels);
  if (refined.record.samples !== trainSet.size || refined.record.numClasses !== trainSet.info.numClasses) {
    throw new DistilleryError(
      `data.labels (${labels}) holds ${refined.record.samples} labels over ${refined.record.numClasses} classes, ` +
        `the training split ${trainSet.size} samples over ${trainSet.info.numClasses}: refine the dataset you train on`,
      'E_SHAPE',
    );
  }
  return { dataset: trainSet.withLabels(refined.labels), keep: refined.keep };
}

/** One training run of `config` with `method`; subscribe to events with on() before execute(). */
export class TrainingRun extends TypedEmitter<TrainingEvents> {
  readonly config: ResolvedRunConfig;
  private readonly method: MethodDefinition;
  private stopRequested = false;
  private signal: AbortSignal | undefined;
  private outLock: RunLock | undefined;

  /** A run of `config` with `method` (the registry's createRun picks the one `config.method` names). */
  constructor(config: ResolvedRunConfig, method: MethodDefinition) {
    super();
    this.config = config;
    this.method = method;
  }

  private abortIfAsked(where: string): void {
    if (!this.signal?.aborted) return;
    const reason = this.signal.reason instanceof Error ? this.signal.reason.message : String(this.signal.reason ?? 'aborted');
    throw new DistilleryError(
      `run aborted ${where} (${reason}); ${checkpointPath(this.config.out)} holds the last finished checkpoint, if any: --resume continues from it`,
      'E_INTERRUPTED',
    );
  }

  /** Runs inside a directory `lock` already holds (a search writes found.json beside the run's checkpoint). */
  writeUnder(lock: RunLock): this {
    this.outLock = lock;
    return this;
  }

  /**
   * Asks the run to stop at the end of the current epoch, after its checkpoint is written; the
   * result then reports the epochs done, and `resume` continues from there.
   */
  requestStop(): void {
    this.stopRequested = true;
  }

  /**
   * Trains (resuming if asked and possible), evaluates, checkpoints, and reports. `signal` aborts
   * the run between two steps: it rejects with E_INTERRUPTED, and the last checkpoint written stays
   * as it was (resume continues from it). In a distributed run the other ranks then fail with
   * E_DISTRIBUTED; requestStop() is the way to stop every rank at an epoch's end.
   */
  async execute(options: { signal?: AbortSignal } = {}): Promise<RunResult> {
    this.signal = options.signal;
    this.abortIfAsked('before its first step');
    const started = performance.now();
    const config = this.config;
    const place = rankEnvironment();
    setLimits(config.limits);
    // Ranks on one node share its cores: by default each takes its share, not all of them.
    setThreads(config.threads === 0 && place ? Math.max(1, Math.floor(availableParallelism() / place.localWorldSize)) : config.threads);
    setSeed(config.seed);
    setCudnnBenchmark(config.cudnnBenchmark);
    // One GPU per rank of a node, as torchrun's LOCAL_RANK convention has it.
    const device = place && config.device === 'cuda' ? `cuda:${place.localRank}` : config.device;
    const group = place ? await ProcessGroup.join(place, config.distributed, device) : undefined;
    try {
      return await this.train(config, device, group, started);
    } finally {
      group?.dispose();
    }
  }

  private async train(config: ResolvedRunConfig, device: string, group: ProcessGroup | undefined, started: number): Promise<RunResult> {
    const shard = group ? { rank: group.rank, worldSize: group.worldSize } : undefined;
    // The method's own options: its section of the config, under its name.
    const options: unknown = (config as unknown as Record<string, unknown>)[this.method.name];
    // Rank 0 writes --out: it refuses to write over the run's own inputs, and locks the directory
    // (which also proves it writable before any data is read).
    const writes = (group?.rank ?? 0) === 0;
    const command = `distillery ${this.method.command} --method ${this.method.name}`;
    if (writes) refuseOverwritingInputs(command, [{ path: checkpointPath(config.out), what: 'its checkpoint' }], runInputs(config));
    using _lock = writes ? (this.outLock?.share() ?? RunLock.acquire(config.out, command)) : undefined;
    // Everything this run makes is freed when it ends, however it ends.
    using scope = new DisposalScope();
    const [trainSet, testSet] = (await allOrNone([openSplit(config.data, 'train'), openSplit(config.data, 'test')])).map((d) =>
      scope.use(d),
    ) as [Dataset, Dataset];
    if (config.data.softLabels !== undefined) {
      const { size, scale, ratio } = config.data.image;
      const needs = this.method.softLabels?.(options);
      if (needs === undefined) throw new DistilleryError(`method '${this.method.name}' cannot replay a soft-label cache`, 'E_ARGUMENT');
      checkSoftLabelHeader(trainSet.info.softLabelHeader ?? '{}', {
        path: config.data.softLabels,
        fingerprint: trainSet.info.fingerprint ?? '',
        numClasses: trainSet.info.numClasses,
        temperature: needs.temperature,
        needsLogits: needs.needsLogits,
        teachers: config.teachers,
        transform: { size, scale, ratio, flip: config.data.augment.flip },
      });
    }
    const { dataset: trainData, keep } = await trainingLabels(trainSet, config);
    if (trainData !== trainSet) scope.use(trainData);
    const limited = config.data.trainLimit === undefined ? undefined : seededSubset(trainSet.size, config.data.trainLimit, config.seed);
    const subset = keep ? Int32Array.from(limited ?? trainSet.labels().keys(), Number).filter((i) => keep[i] === 1) : limited;
    const loaderBase = {
      workers: config.data.workers,
      prefetch: config.data.prefetch,
      mean: config.data.mean,
      std: config.data.std,
      pinMemory: device !== 'cpu',
      channelsLast: config.data.channelsLast,
    };
    const trainLoader = scope.use(
      new Loader(trainData, {
        ...loaderBase,
        batchSize: config.batchSize,
        shuffle: true,
        dropLast: false,
        seed: config.seed,
        ...(shard ?? {}),
        ...augmentation(config.data),
        ...(subset ? { subset } : {}),
      }),
    );
    const testLoader = scope.use(
      Loader.forEvaluation(testSet, {
        ...loaderBase,
        batchSize: config.evalBatchSize,
        skipBadFiles: config.data.badFiles === 'skip',
        ...(shard ? { shard } : {}),
      }),
    );

    const found = config.model.archSpec === undefined ? undefined : await readArchSpec(config.model.archSpec);
    const blocks = found?.model.blocks ?? config.model.blocks;
    const named: ModelSpec = {
      arch: found?.model.arch ?? config.model.arch,
      inChannels: found?.model.inChannels ?? config.model.inChannels ?? trainSet.info.shape[0],
      numClasses: found?.model.numClasses ?? config.model.numClasses ?? trainSet.info.numClasses,
      ...(blocks ? { blocks } : {}),
    };
    const spec = this.method.studentSpec?.(named, options) ?? named;
    const student = scope.use(await Model.create(spec, device));
    if (config.data.channelsLast) await student.toChannelsLast();
    const trainer = scope.use(new Trainer(student, config.optimizer));
    // Weights and up to two optimizer moments per parameter, in float32.
    if (writes) checkFreeSpace(config.out, student.parameterCount * 4 * 3);
    await trainer.setPrecision(config.precision, config.lossScale);
    const method: MethodSession = await this.method.create(
      {
        config,
        studentSpec: spec,
        device,
        trainer,
        inputShape: trainSet.info.shape,
        seed: config.seed,
        stepsPerEpoch: trainLoader.batchesPerEpoch,
        baseLr: config.optimizer.lr,
        // A replayed soft-label cache stands in for the teachers: none is loaded.
        teachers: config.data.softLabels === undefined ? config.teachers : [],
      },
      options,
    );
    scope.defer(() => method.dispose());
    const ckpt = checkpointPath(config.out);
    let record: CheckpointRecord = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      model: spec,
      epoch: 0,
      step: 0,
      trainSeconds: 0,
      trainImages: 0,
      config,
      history: [],
    };
    if (config.resume && existsSync(ckpt)) {
      const saved = readCheckpointRecord(ckpt);
      if (!sameSpec(saved.model, spec)) {
        throw new DistilleryError(
          `cannot resume from ${ckpt}: it holds ${describeSpec(saved.model)}, this run trains ${describeSpec(spec)}`,
          'E_CHECKPOINT',
        );
      }
      const changes = resumeChanges(saved.config, config);
      if (changes.length > 0 && !config.resumeWithChanges) {
        throw new DistilleryError(
          `cannot resume from ${ckpt}: this run would train differently from the run that wrote it (${changes.join('; ')}); ` +
            'resume with the settings it was trained with, or pass --resume-with-changes to continue with these',
          'E_CHECKPOINT',
        );
      }
      await trainer.loadCheckpoint(ckpt);
      record = { ...saved, config };
      this.emit('log', { message: `resumed from ${ckpt} after epoch ${saved.epoch}` });
      if (changes.length > 0) this.emit('log', { message: `resumed with changed settings: ${changes.join('; ')}` });
    } else {
      if (config.resume) this.emit('log', { message: `no checkpoint at ${ckpt}; starting from scratch` });
      if (config.model.init !== undefined) await this.initialise(student, config.model.init);
    }
    if (group) await trainer.distribute(group, config.distributed);

    const schedule = createSchedule(config.schedule, {
      baseLr: config.optimizer.lr,
      epochs: config.epochs,
      stepsPerEpoch: trainLoader.batchesPerEpoch,
    });
    if (record.step !== record.epoch * trainLoader.batchesPerEpoch) {
      throw new DistilleryError(
        `cannot resume from ${ckpt}: it was written at step ${record.step} after ${record.epoch} epoch(s), but this config has ` +
          `${trainLoader.batchesPerEpoch} steps per epoch; resume with the batch size and --train-limit it was trained with`,
        'E_CHECKPOINT',
      );
    }
    for (let epoch = record.epoch; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let batchIndex = 0;
      let skippedSteps = 0;
      let lossScale = 0;
      for await (const batch of trainLoader.epoch(epoch)) {
        const lr = schedule.lrAt(record.step);
        let stats;
        try {
          stats = await method.step(batch, lr, record.step);
        } finally {
          batch.dispose();
        }
        if (stats.skipped) skippedSteps += 1;
        lossScale = stats.lossScale;
        lossSum += stats.loss * stats.count;
        correct += stats.correct;
        seen += stats.count;
        record.step += 1;
        batchIndex += 1;
        this.emit('step', {
          epoch,
          step: record.step,
          batch: batchIndex,
          batches: trainLoader.batchesPerEpoch,
          lr,
          loss: stats.loss,
          images: stats.count,
          seconds: (performance.now() - epochStart) / 1000,
        });
        this.abortIfAsked(`at step ${record.step} (epoch ${epoch + 1}, batch ${batchIndex} of ${trainLoader.batchesPerEpoch})`);
      }
      // One all-reduce: the epoch's sums, and whether any rank was asked to stop (a Ctrl-C reaches
      // the ranks at slightly different times; agreeing makes them all stop after this epoch).
      let agreedStop = false;
      if (group) {
        const total = await group.allReduce([lossSum, correct, seen, this.stopRequested ? 1 : 0]);
        [lossSum, correct, seen, agreedStop] = [total[0]!, total[1]!, total[2]!, total[3]! > 0];
      }
      const epochSeconds = (performance.now() - epochStart) / 1000;
      record.trainSeconds += epochSeconds;
      record.trainImages += seen;
      record.epoch = epoch + 1;
      const trainLoss = lossSum / seen;
      const trainAccuracy = correct / seen;
      this.emit('epoch', { epoch, epochs: config.epochs, trainLoss, trainAccuracy, seconds: epochSeconds });
      if (skippedSteps > 0) {
        this.emit('log', {
          message: `epoch ${epoch + 1}: the loss scaler skipped ${skippedSteps} step(s) with inf/NaN gradients; scale now ${lossScale}`,
        });
      }
      const skipped = trainLoader.skipped();
      if (skipped > 0) this.emit('log', { message: `epoch ${epoch + 1}: ${skipped} unreadable image files skipped (data.badFiles: skip)` });

      const stop = group ? agreedStop : this.stopRequested;
      const last = epoch + 1 === config.epochs || stop;
      if (last || (epoch + 1) % config.evalEvery === 0) {
        const result = await evaluate([student], testLoader, group);
        record.history.push({
          epoch,
          top1: result.top1,
          top5: result.top5,
          loss: result.loss,
          trainLoss,
          trainAccuracy,
          seconds: epochSeconds,
        });
        this.emit('eval', { epoch, top1: result.top1, top5: result.top5, loss: result.loss });
      }
      if ((last || (epoch + 1) % config.checkpointEvery === 0) && (group?.rank ?? 0) === 0) {
        await trainer.saveCheckpoint(ckpt, recordMetadata(record));
        this.emit('checkpoint', { epoch, path: ckpt });
      }
      // Distributed, only the agreed decision counts; alone, a stop asked for during this epoch's checkpoint does too.
      if (group ? stop : this.stopRequested) break;
    }

    const final = record.history.at(-1) ?? (await this.evaluateOnly(student, testLoader, record, group));
    const teacherReport = method.teachers.length > 0 ? await this.evaluateTeachers(method.teachers, testLoader, group) : {};
    const outputs = student.outputNames.length > 1 ? await this.evaluateOutputs(student, testLoader, group) : undefined;
    const flops = await student.countFlops(trainSet.info.shape);
    return {
      ...teacherReport,
      ...(outputs ? { outputs } : {}),
      method: config.method,
      arch: spec.arch,
      worldSize: group?.worldSize ?? 1,
      spec,
      top1: final.top1,
      top5: final.top5,
      loss: final.loss,
      params: student.parameterCount,
      flops,
      imagesPerSecond: record.trainSeconds > 0 ? record.trainImages / record.trainSeconds : 0,
      trainSeconds: record.trainSeconds,
      seconds: (performance.now() - started) / 1000,
      epochs: record.epoch,
      checkpoint: ckpt,
      history: record.history,
    };
  }

  private async initialise(student: Model, path: string): Promise<void> {
    try {
      // The search network is the teacher plus gates the teacher's file cannot have.
      await loadWeightsInto(student, path, { ignoreGates: student.spec.gated === true });
    } catch (error) {
      if (error instanceof DistilleryError) throw new DistilleryError(`model.init (${path}): ${error.message}`, error.code);
      throw error;
    }
    this.emit('log', { message: `student initialised from ${path}` });
  }

  private async evaluateTeachers(
    teachers: Model[],
    loader: Loader,
    group?: ProcessGroup,
  ): Promise<Pick<RunResult, 'teachers' | 'ensemble'>> {
    const results = await evaluateMembers(teachers, loader, group);
    const scores: TeacherScore[] = teachers.map((teacher, i) => {
      const { top1, top5 } = results[i]!;
      this.emit('log', { message: `teacher ${i + 1} ${teacher.spec.arch}: test top-1 ${(100 * top1).toFixed(2)}%` });
      return { path: this.config.teachers[i] ?? '', arch: teacher.spec.arch, top1, top5 };
    });
    if (teachers.length === 1) return { teachers: scores, ensemble: { top1: scores[0]!.top1, top5: scores[0]!.top5 } };
    const ensemble = results[teachers.length]!;
    this.emit('log', { message: `teacher ensemble: test top-1 ${(100 * ensemble.top1).toFixed(2)}%` });
    return { teachers: scores, ensemble: { top1: ensemble.top1, top5: ensemble.top5 } };
  }

  private async evaluateOutputs(student: Model, loader: Loader, group?: ProcessGroup): Promise<OutputScore[]> {
    const scores = (await evaluateOutputs(student, loader, group)).map(({ name, top1, top5 }) => ({ name, top1, top5 }));
    for (const s of scores) this.emit('log', { message: `${s.name}: test top-1 ${(100 * s.top1).toFixed(2)}%` });
    return scores;
  }

  private async evaluateOnly(student: Model, loader: Loader, record: CheckpointRecord, group?: ProcessGroup): Promise<EpochRecord> {
    const result = await evaluate([student], loader, group);
    return {
      epoch: record.epoch - 1,
      top1: result.top1,
      top5: result.top5,
      loss: result.loss,
      trainLoss: NaN,
      trainAccuracy: NaN,
      seconds: 0,
    };
  }
}
