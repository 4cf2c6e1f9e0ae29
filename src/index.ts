// distillery's public API.
export { DistilleryError, isDistilleryError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type {
  CudaMemoryStats,
  HostTensor,
  LossScaleOptions,
  Precision,
  StepStats,
  EvalStats,
  TorchInfo,
  OneOutputs,
  KdLossOptions,
  LiveHandles,
  LimitName,
  Limits,
  OneLossOptions,
  Settings,
  SettingValue,
} from './native.js';
export { addonChoice } from './native.js';
export type { AddonChoice } from './addon-file.js';
export { findLibTorch } from './libtorch.js';
export type { LibTorchInstall } from './libtorch.js';
export {
  cudaMemoryStats,
  emptyCache,
  limits,
  liveHandles,
  setCudnnBenchmark,
  setLimits,
  setSeed,
  setThreads,
  torchInfo,
} from './runtime.js';
export { Model, describeSpec, listArchs } from './models/model.js';
export type { ModelSpec } from './models/model.js';
export { Dataset, Loader } from './data/dataset.js';
export { DATASET_DEFAULTS } from './config/datasets.js';
export type { Batch, ImageFolderOptions, LoaderOptions, Split } from './data/dataset.js';
export { seededSubset } from './data/random.js';
export {
  CHECKPOINT_FORMAT,
  WEIGHTS_FORMAT,
  checkpointModelPrefix,
  loadModel,
  loadWeightsInto,
  readCheckpointRecord,
  readRecord,
  recordMetadata,
} from './io/checkpoint.js';
export { LABELS_FORMAT, readLabelsFile, writeLabelsFile } from './io/labels-file.js';
export type { LabelsRecord, RefinedLabels } from './io/labels-file.js';
export { injectLabelNoise } from './data/label-noise.js';
export type { LabelNoise, LabelNoiseType } from './data/label-noise.js';
export { refineLabels } from './pipelines/refine.js';
export { cacheTeachers } from './pipelines/cache-teachers.js';
export type { CacheProgress, CacheTeachersOptions } from './pipelines/cache-teachers.js';
export { SOFT_LABEL_FORMAT, checkSoftLabelHeader } from './io/soft-label-cache.js';
export type { SoftLabelHeader } from './io/soft-label-cache.js';
export type { RefineOptions, RefineResult } from './pipelines/refine.js';
export type { CheckpointRecord, EpochRecord, ExportSource, WeightsRecord } from './io/checkpoint.js';
export { Trainer } from './train/trainer.js';
export { Objective } from './train/objective.js';
export { ProcessGroup } from './distributed/process-group.js';
export { processRank, rankEnvironment } from './distributed/environment.js';
export type { RankEnvironment } from './distributed/environment.js';
export type { DistributedConfig } from './config/schemas.js';
export { evaluate, evaluateCheckpoints, evaluateMembers, evaluateOutputs } from './train/evaluate.js';
export type { CheckpointEvaluationOptions, Evaluation } from './train/evaluate.js';
export { TrainingRun, checkpointPath } from './train/run.js';
export { METHODS, createRun, methodFlags, methodNamed, methodsOf } from './methods/registry.js';
export type { MethodName } from './methods/registry.js';
export type { MethodCommand, MethodContext, MethodDefinition, MethodSession, SoftLabelNeeds, TeacherNeed } from './train/method.js';
export { objectiveSession } from './methods/objective-session.js';
export type { StepArgs, Stepping } from './methods/objective-session.js';
export type { OutputScore, RunResult, TeacherScore } from './train/run.js';
export type { TrainingEvents } from './train/events.js';
export { createSchedule } from './train/schedules.js';
export { kdLoss } from './losses/kd-loss.js';
export { alignBlock, discriminatorLoss, similarityLoss } from './losses/meal-losses.js';
export type { PoolingName, SimilarityName } from './losses/meal-losses.js';
export { oneLoss } from './losses/one-loss.js';
export type { OneLossResult } from './losses/one-loss.js';
export { oneRampUp } from './methods/one.js';
export { chooseSubnet, extractSubnet, searchStudent } from './pipelines/search.js';
export type { SearchBudget, SearchResult, SubnetChoice } from './pipelines/search.js';
export { ARCH_FORMAT, readArchSpec, writeArchSpec } from './io/arch-spec.js';
export { RunLock } from './io/run-lock.js';
export type { ArchSpecFile } from './io/arch-spec.js';
export { selectTeachers } from './methods/teacher-selection.js';
export type { TeacherSelection } from './methods/teacher-selection.js';
export { buildConfig, loadConfigFile } from './config/load.js';
export type { DeepPartial, ResolvedRunConfig, RunConfigPatch } from './config/load.js';
export { ConfigError } from './config/errors.js';
export type { ConfigErrorCode } from './config/errors.js';
export { RunConfig as RunConfigSchema } from './config/schemas.js';
export type { RunConfig, RunConfigInput, OptimizerConfig } from './config/schemas.js';
export { loadTeachers } from './models/teachers.js';
export type { TeacherTarget } from './models/teachers.js';
export { quickstart } from './pipelines/quickstart.js';
export type { QuickstartResult, QuickstartRow, RunExecutor } from './pipelines/quickstart.js';
export { VERSION } from './version.js';
