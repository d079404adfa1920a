#include "core/device.h"

#include <torch/cuda.h>

#include <regex>
#include <variant>

#include "core/error.h"

namespace dojo::core {

namespace {

// The device a name stands for, or what is wrong with the name.
std::variant<c10::Device, std::string> parse(const std::string& name) {
  static const std::regex pattern(R"((auto|cpu|cuda)(:(\d{1,3}))?)");
  std::smatch m;
  if (!std::regex_match(name, m, pattern) || (m[2].matched && m[1] != "cuda"))
    return std::string("expected cpu, cuda, cuda:N or auto");
  const int gpus = cuda_device_count();
  if (m[1] == "cpu" || (m[1] == "auto" && gpus == 0)) return c10::Device(c10::kCPU);
  if (gpus == 0)
    return std::string(
        "this LibTorch has no CUDA device (built without CUDA, or no GPU visible); use cpu or auto");
  const int index = m[2].matched ? std::stoi(m[3].str()) : 0;
  if (index >= gpus) {
    return "LibTorch sees " + std::to_string(gpus) + " CUDA device" + (gpus == 1 ? "" : "s") + " (cuda:0" +
           (gpus == 1 ? "" : " to cuda:" + std::to_string(gpus - 1)) + ")";
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace

int cuda_device_count() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

c10::Device device(const std::string& name) {
  auto d = parse(name);
  if (const auto* problem = std::get_if<std::string>(&d)) throw Error("device '" + name + "': " + *problem);
  return std::get<c10::Device>(d);
}

Constraint device_name() {
  Constraint c;
  c.text_check = [](const std::string& key, const std::string& value) {
    const auto d = parse(value);
    if (const auto* problem = std::get_if<std::string>(&d))
      throw Error(key + " = '" + value + "': " + *problem);
  };
  return c;
}

}  // namespace dojo::core
