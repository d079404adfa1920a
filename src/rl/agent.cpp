#include "rl/agent.h"

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

}  // namespace dojo::rl
