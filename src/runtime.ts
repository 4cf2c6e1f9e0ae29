// Process-wide settings of the native runtime.
import type { CudaMemoryStats, Limits, LiveHandles, TorchInfo } from './native.js';
import { native } from './native.js';

/** Intra-op threads for LibTorch (0 = all cores; LibTorch's own default on Debian is 1). */
export function setThreads(threads: number): void {
  native().setThreads(threads);
}

/** The resource limits on outside input now in force (docs/errors.md, E_LIMIT). */
export function limits(): Limits {
  return native().limits();
}

/**
 * Changes the named resource limits, process-wide (the others keep their values); E_ARGUMENT for an
 * unknown name or a value that is not a positive integer, and then none changes.
 */
export function setLimits(changes: Partial<Limits>): void {
  native().setLimits(changes);
}

/** Seeds LibTorch's generators (model init); data order and augmentation take the seed per loader. */
export function setSeed(seed: number): void {
  native().manualSeed(seed);
}

/** What the addon was built against and runs on: versions, CUDA, threads. */
export function torchInfo(): TorchInfo {
  return native().torchInfo();
}

/** The CUDA caching allocator's allocated, reserved and peak bytes on `device` (E_DEVICE without CUDA). */
export function cudaMemoryStats(device = 0): CudaMemoryStats {
  return native().cudaMemory(device);
}

/** Returns cached, unused CUDA memory to the driver (nothing without CUDA). */
export function emptyCache(): void {
  native().emptyCache();
}

/** cuDNN autotuning (torch.backends.cudnn.benchmark): picks the fastest convolution algorithms for fixed input shapes. */
export function setCudnnBenchmark(on: boolean): void {
  native().setCudnnBenchmark(on);
}

/** Native handles held now (made and not yet disposed), per kind: zero after a run means it freed everything. */
export function liveHandles(): LiveHandles {
  return native().liveHandles();
}
