#pragma once
// Reader for the IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST): a big-endian
// header (magic 0x0000TTDD: element type TT, DD dimensions, then DD uint32 sizes) and raw elements.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace distillery::data {

/** Where Debian's dataset-fashion-mnist package installs Fashion-MNIST (.gz IDX files). */
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/** Reads one IDX file of unsigned bytes (type 0x08) with `dims` dimensions, raw or gzip-compressed
 *  (told apart by content, not name), as a contiguous uint8 tensor shaped by its header.
 *  E_FILE_NOT_FOUND / E_IO when it cannot be opened or read; E_CORRUPT_FILE naming the file and the
 *  byte offset in the uncompressed stream for a bad magic, a short read, trailing bytes or a broken
 *  gzip stream. */
torch::Tensor read_idx(const std::string& path, int64_t dims);

/** Loads split "train" or "test" from `dir`, which holds {train,t10k}-images-idx3-ubyte and
 *  {train,t10k}-labels-idx1-ubyte, each with or without ".gz". Images come out uint8 [N, 1, H, W],
 *  labels int64 [N], and the name is the directory's. With num_classes = 0 the class count is
 *  max label + 1 but at least 10 (a split may miss a class of its family); otherwise a label
 *  >= num_classes is E_CORRUPT_FILE with its offset. */
ImageDataset load_idx_split(const std::string& dir, const std::string& split, int64_t num_classes = 0);

}  // namespace distillery::data
