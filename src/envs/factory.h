// How to make an environment, not an environment: a registered id (or a custom maker), the make()
// options and a chain of wrappers. The trainer, every agent, vector envs and evaluation build their
// envs from one factory, so each gets the same stack (an agent that needs n copies — PPO's vector
// envs — makes n from the factory instead of rebuilding them from the id and losing the wrappers).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "envs/registry.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

// Takes an env and returns it wrapped (e.g. atari_preprocessing with fixed options).
using WrapperFn = std::function<std::unique_ptr<Env>(std::unique_ptr<Env>)>;

class EnvFactory {
 public:
  // A registered id; throws dojo::Error naming the id when it is not registered.
  EnvFactory(std::string id, MakeOptions options = {});        // NOLINT: an id converts, as in make(id)
  EnvFactory(const char* id) : EnvFactory(std::string(id)) {}  // NOLINT
  // An env the registry does not know (a test's, a user's own): `make` builds a fresh one per call.
  static EnvFactory custom(std::string name, std::function<std::unique_ptr<Env>()> make);

  // Appends a wrapper: wrappers apply in the order added, outermost last.
  EnvFactory& wrap(WrapperFn wrapper);
  EnvFactory wrapped(WrapperFn wrapper) const;
  EnvFactory& options(MakeOptions options);

  // A fresh env: make(id, options) (or the custom maker), then each wrapper in turn.
  std::unique_ptr<Env> operator()() const;

  const std::string& id() const { return id_; }
  const MakeOptions& options() const { return options_; }

 private:
  EnvFactory() = default;
  std::string id_;
  MakeOptions options_;
  std::function<std::unique_ptr<Env>()> custom_;
  std::vector<WrapperFn> wrappers_;
};

}  // namespace dojo::envs

DOJO_PUBLIC_END
