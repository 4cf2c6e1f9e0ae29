#pragma once
// Reader for the CIFAR-10 and CIFAR-100 "binary version" files (cifar-10-batches-bin,
// cifar-100-binary): fixed-size records of label byte(s) then 3072 bytes, the red, green and blue
// 32x32 planes in row-major order.
#include <string>

#include "data/dataset.h"

namespace distillery::data {

/** Loads split "train" or "test" from `dir`: CIFAR-10 when it holds data_batch_1.bin..data_batch_5.bin
 *  and test_batch.bin (labels 0-9), CIFAR-100 when it holds train.bin and test.bin (fine labels
 *  0-99). Images come out uint8 [N, 3, 32, 32], labels int64 [N]. E_FILE_NOT_FOUND naming what is
 *  missing; E_CORRUPT_FILE naming the file for a size that is not a whole number of records or a
 *  label out of range. */
ImageDataset load_cifar_split(const std::string& dir, const std::string& split);

}  // namespace distillery::data
