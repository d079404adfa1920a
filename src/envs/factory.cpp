#include "envs/factory.h"

#include "core/error.h"

namespace dojo::envs {

EnvFactory::EnvFactory(std::string id, MakeOptions options) : id_(std::move(id)), options_(options) {
  spec(id_);  // an unknown id fails here, before anything is built from it
}

EnvFactory EnvFactory::custom(std::string name, std::function<std::unique_ptr<Env>()> make) {
  if (!make) throw Error("EnvFactory::custom('" + name + "'): expected a function that makes the env");
  EnvFactory f;
  f.id_ = std::move(name);
  f.custom_ = std::move(make);
  return f;
}

EnvFactory& EnvFactory::wrap(WrapperFn wrapper) {
  wrappers_.push_back(std::move(wrapper));
  return *this;
}

EnvFactory EnvFactory::wrapped(WrapperFn wrapper) const {
  auto copy = *this;
  copy.wrap(std::move(wrapper));
  return copy;
}

EnvFactory& EnvFactory::options(MakeOptions options) {
  options_ = options;
  return *this;
}

std::unique_ptr<Env> EnvFactory::operator()() const {
  auto env = custom_ ? custom_() : make(id_, options_);
  for (const auto& w : wrappers_) env = w(std::move(env));
  return env;
}

}  // namespace dojo::envs
