#include "rl/agent.h"

#include <sstream>

#include "core/checkpoint.h"
#include "core/error.h"

namespace dojo::rl {

void CallbackList::on_start(Agent& a, std::int64_t total) {
  for (auto& c : callbacks_) c->on_start(a, total);
}

bool CallbackList::on_step(Agent& a, const StepInfo& info) {
  bool go_on = true;
  for (auto& c : callbacks_) go_on = c->on_step(a, info) && go_on;
  return go_on;
}

void CallbackList::on_end(Agent& a) {
  for (auto& c : callbacks_) c->on_end(a);
}

void put_agent_state(core::CheckpointWriter& w, const std::mt19937_64& rng,
                     const std::map<std::string, double>& extra) {
  std::ostringstream state;
  state << rng;
  w.put("rng", state.str());
  std::string keys;
  for (const auto& [k, v] : extra) {
    w.put("extra/" + k, v);
    keys += k + "\n";
  }
  w.put("extra_keys", keys);
}

std::map<std::string, double> get_agent_state(core::CheckpointReader& r, std::mt19937_64& rng) {
  std::istringstream state(r.get_string("rng"));
  state >> rng;
  std::map<std::string, double> extra;
  std::istringstream keys(r.get_string("extra_keys"));
  for (std::string k; std::getline(keys, k);) extra[k] = r.get_double("extra/" + k);
  return extra;
}

void require_algo(core::CheckpointReader& r, const std::filesystem::path& path, const std::string& algo) {
  const auto found = r.get_string("algo");
  if (found != algo)
    throw Error("checkpoint '" + path.string() + "' holds a " + found + " agent: expected " + algo);
}

}  // namespace dojo::rl
