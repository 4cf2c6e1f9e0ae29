#pragma once
// Where a trainer checkpoint keeps each part, by tensor-name prefix. Defined here only: TypeScript
// reads them through the addon (checkpointFormat()).
namespace distillery::train {

inline constexpr const char* kModelPrefix = "model.";  // the student's parameters and buffers
inline constexpr const char* kOptimPrefix = "optim.";  // its optimizer's state
inline constexpr const char* kRngName = "rng.cpu";     // LibTorch's default CPU generator

}  // namespace distillery::train
