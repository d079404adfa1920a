// Merge layers: several inputs of one shape in, one out.
#pragma once
#include <string>

#include "core/export.h"
#include "nn/layer.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

Layer Add(std::string name = "");
Layer Subtract(std::string name = "");  // exactly two inputs: a − b
Layer Multiply(std::string name = "");
Layer Average(std::string name = "");
Layer Maximum(std::string name = "");
Layer Minimum(std::string name = "");
// Joins along `axis` (Keras counts the batch axis: -1 is the last, 1 the first after the batch).
Layer Concatenate(std::int64_t axis = -1, std::string name = "");
// Batched dot product of two inputs along axes (a, b), counted as in Concatenate; with normalize the
// inputs are L2-normalised first, which gives the cosine similarity.
Layer Dot(std::vector<std::int64_t> axes, bool normalize = false, std::string name = "");

}  // namespace dojo::nn

DOJO_PUBLIC_END
