#pragma once
// The loader's randomness, made a pure function of (seed, epoch, dataset index) so batches do not
// depend on worker count or thread timing and a resumed run replays any epoch exactly.
#include <cstdint>
#include <vector>

namespace distillery::data {

/** splitmix64's output mix: a bijection on 64 bits that spreads every input bit. */
uint64_t mix64(uint64_t x);

/** Seed for one epoch's permutation. */
uint64_t epoch_seed(uint64_t seed, int64_t epoch);

/** Seed for one sample's augmentation in one epoch; the same on every rank and worker. */
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);

/** A splitmix64 stream: tiny, and its output is fixed by its definition on every platform. */
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t next();
  /** Uniform in [0, bound) without modulo bias; bound > 0. */
  uint64_t below(uint64_t bound);

 private:
  uint64_t state_;
};

/** Samples one of `world_size` ranks sees per epoch: DistributedSampler's ceil(n / world_size). */
int64_t samples_per_rank(int64_t n, int64_t world_size);

/** The dataset indices rank `rank` visits in `epoch`, in order. `pool` holds the candidates (a subset
 *  or 0..N-1). With `shuffle` they are permuted by a Fisher-Yates shuffle on std::mt19937_64 seeded
 *  from epoch_seed (std::shuffle's output differs between standard libraries). As in PyTorch's
 *  DistributedSampler the list is padded by wrapping to a multiple of world_size, and rank r takes
 *  positions r, r + world_size, ... so the ranks are disjoint apart from the padding. */
std::vector<int64_t> epoch_indices(const std::vector<int64_t>& pool, bool shuffle, uint64_t seed, int64_t epoch, int64_t rank,
                                   int64_t world_size);

}  // namespace distillery::data
