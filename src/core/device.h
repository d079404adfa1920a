// Where an agent or a model computes. Names are PyTorch's: "cpu", "cuda", "cuda:N", and "auto" (SB3's
// default): the first CUDA GPU when this LibTorch was built with CUDA and sees one, else the CPU.
//
// What runs where (docs/library.md): networks, their optimizers' state and each update's minibatch
// live on the device; environments, replay memories, rollout storage, observation and reward
// normalisation, and the generators that draw actions stay on the CPU, so the same seed gives the
// same draws on any device. Tensors cross once per step: an observation in, an action out.
#pragma once
#include <c10/core/Device.h>

#include <string>

#include "core/export.h"
#include "core/options.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

// The device a name stands for. Throws dojo::Error for a malformed name ("gpu", "cuda:x") and for a
// CUDA device this LibTorch cannot use (built without CUDA, no GPU, or an index past the last GPU).
c10::Device device(const std::string& name);

// How many CUDA devices LibTorch sees (0 with Debian's CPU-only build).
int cuda_device_count();

// The options constraint for a `device` key: device(value) must succeed.
Constraint device_name();

}  // namespace dojo::core

DOJO_PUBLIC_END
