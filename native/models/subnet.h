#pragma once
// Student search's extraction (Gu & Tresp 2020, as this project defines it): from a gated CIFAR
// ResNet (CifarResNetOptions::gated), the subnetwork of the channels and blocks whose gates are
// large enough, as a plain network of the zoo with its weights inherited and the gates folded in.
#include <cstdint>
#include <vector>

#include "models/net.h"

namespace distillery::models {

struct SubnetPlan {
  std::vector<std::vector<int64_t>> blocks;                 // inner width of each kept block, per stage: ModelSpec::blocks
  std::vector<std::vector<int64_t>> source;                 // the gated network's index of each kept block
  std::vector<std::vector<std::vector<int64_t>>> channels;  // the kept inner channels of each kept block
};

/**
 * The effective gate of inner channel k of a block: |channel_gate[k]| times |block_gate| where the
 * block has one (only its product reaches the block's output). All of them, sorted ascending: the
 * thresholds worth trying.
 */
std::vector<double> gate_values(const NetImpl& gated);

/**
 * Keeps the channels whose effective gate is >= `threshold`. A block left without channels is
 * dropped when its shortcut is the identity; a block that reshapes keeps its strongest channel,
 * and a stage left without blocks keeps its strongest block with its strongest channel.
 */
SubnetPlan plan_subnet(const NetImpl& gated, double threshold);

/**
 * Copies the kept weights of `gated` into `target` (a network built with the plan's blocks),
 * folding each channel gate into bn1's scale and shift and each block gate into bn2's, so that
 * `target` computes what `gated` computes once the pruned gates are zero.
 */
void extract_subnet(const NetImpl& gated, const SubnetPlan& plan, NetImpl& target);

}  // namespace distillery::models
