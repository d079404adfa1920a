// AlphaZero's policy-value network, built with nn's functional API, and the Evaluator that lets MCTS
// search with it.
//
// The observation enters channels-last [H, W, C] (nn's convention); a 3 × 3 convolution stem with
// batch normalisation and ReLU, `blocks` residual blocks (conv-BN-ReLU-conv-BN, the skip added, ReLU),
// then two heads as in the AlphaGo Zero paper: the policy head (1 × 1 conv to 2 planes, BN, ReLU, a
// dense layer to the action logits) and the value head (1 × 1 conv to 1 plane, BN, ReLU, a dense
// hidden layer, a tanh unit: the value for the player to move).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/export.h"
#include "games/game.h"
#include "games/mcts.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

struct NetworkOptions {
  int blocks = 5;
  int filters = 64;
  int value_hidden = 64;  // the value head's dense layer
};

// Outputs: "policy" [A] logits and "value" [1] in [−1, 1]. dojo::Error for blocks < 0 or filters < 1.
nn::Model policy_value_network(const Game& game, const NetworkOptions& options);

// The observations of `states` as one batch [N, H, W, C] (channels-last), for the network.
torch::Tensor observation_batch(const std::vector<const State*>& states);

// Evaluates leaves with the network in inference mode (batch normalisation by its moving statistics,
// no gradients): priors are the policy's softmax over the legal moves only, values the value head's.
class NetworkEvaluator final : public Evaluator {
 public:
  explicit NetworkEvaluator(nn::Model model) : model_(std::move(model)) {}
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override;
  nn::Model& model() { return model_; }

 private:
  nn::Model model_;
};

}  // namespace dojo::games

DOJO_PUBLIC_END
