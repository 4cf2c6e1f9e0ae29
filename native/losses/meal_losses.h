#pragma once
// MEAL's block losses: the parameter-free alignment that makes blocks of different networks
// comparable, the similarity losses between aligned student and teacher blocks, and the
// discriminator's binary cross-entropy (student rows [1,0], teacher rows [0,1], as the official code).
#include <torch/torch.h>

#include <string>
#include <vector>

namespace distillery::losses {

enum class Pooling { Avg, Max };
/** "avg" | "max"; anything else is E_ARGUMENT naming `context`. */
Pooling parse_pooling(const std::string& name, const std::string& context);

/**
 * (N, C, H, W) -> view (N, C, H*W) -> adaptive avg/max pool to `length` -> mean/max over channels
 * -> (N, length). A 2-D block (logits, N x K) is returned as it is: it is already aligned.
 */
torch::Tensor align_block(const torch::Tensor& block, int64_t length, Pooling pooling);

enum class Similarity { CrossEntropy, KL, L1, L2, L1Soft, L2Soft, Cosine };
/** "ce" | "kl" | "l1" | "l2" | "l1_soft" | "l2_soft" | "cosine". */
Similarity parse_similarity(const std::string& name, const std::string& context);

/**
 * d(student, teachers) on aligned (N, L) blocks. With several teachers the target is their average:
 * of softmax(t / T) for the probability losses (ce, kl, l1_soft, l2_soft), of the raw values for
 * l1, l2 and cosine. ce: -(p_t * log_softmax(s)).sum(1).mean() at T = 1 (official); kl: T^2 *
 * KL(p_t || softmax(s / T)) batchmean; l1/l2: mean absolute/squared error; *_soft: the same on
 * softmax outputs (official); cosine: 1 - mean cosine similarity.
 */
torch::Tensor similarity_loss(const torch::Tensor& student, const std::vector<torch::Tensor>& teachers, Similarity kind,
                              double temperature);

/** The value the discriminator sees for the teachers: the mean of their aligned blocks. */
torch::Tensor teacher_consensus(const std::vector<torch::Tensor>& teachers);

/** BCE-with-logits over cat(student rows -> [1,0], teacher rows -> [0,1]), mean over all entries. */
torch::Tensor discriminator_loss(const torch::Tensor& student_scores, const torch::Tensor& teacher_scores);

/** The generator's side of the game: student rows labelled as teacher, [0,1]. */
torch::Tensor generator_loss(const torch::Tensor& student_scores);

}  // namespace distillery::losses
