#include "data/sampler.h"

#include <random>
#include <utility>

namespace distillery::data {

namespace {
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// Combining by mixing after each value (rather than XOR-ing raw values) keeps (seed, epoch) pairs
// such as (1, 2) and (2, 1) apart.
uint64_t combine(uint64_t h, uint64_t value) { return mix64(h + kGolden + mix64(value)); }

// Unbiased draw in [0, bound) from 64-bit draws, rejecting the low values that would make modulo
// uneven (std::uniform_int_distribution's output is implementation-defined).
template <typename Draw>
uint64_t uniform_below(Draw&& draw, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = draw();
    if (r >= threshold) return r % bound;
  }
}
}  // namespace

uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return combine(mix64(seed), static_cast<uint64_t>(epoch)); }

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  // A different first constant from epoch_seed keeps the two streams unrelated.
  return combine(combine(mix64(seed ^ 0x5851f42d4c957f2dULL), static_cast<uint64_t>(epoch)), static_cast<uint64_t>(index));
}

uint64_t SplitMix64::next() {
  state_ += kGolden;
  return mix64(state_);
}

uint64_t SplitMix64::below(uint64_t bound) {
  return uniform_below([this] { return next(); }, bound);
}

int64_t samples_per_rank(int64_t n, int64_t world_size) { return (n + world_size - 1) / world_size; }

std::vector<int64_t> epoch_indices(const std::vector<int64_t>& pool, bool shuffle, uint64_t seed, int64_t epoch, int64_t rank,
                                   int64_t world_size) {
  std::vector<int64_t> order = pool;
  if (shuffle && order.size() > 1) {
    std::mt19937_64 rng(epoch_seed(seed, epoch));
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[uniform_below(rng, i + 1)]);
  }
  if (world_size == 1 || order.empty()) return order;

  const int64_t per_rank = samples_per_rank(static_cast<int64_t>(order.size()), world_size);
  std::vector<int64_t> mine;
  mine.reserve(static_cast<size_t>(per_rank));
  for (int64_t k = 0; k < per_rank; ++k) {
    const int64_t position = rank + k * world_size;
    mine.push_back(order[static_cast<size_t>(position) % order.size()]);  // past the end: wrap, as padding
  }
  return mine;
}

}  // namespace distillery::data
