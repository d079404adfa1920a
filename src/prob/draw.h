// DRAW (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image Generation"), without
// attention: an encoder LSTM reads the image and the error of the canvas so far, a latent z_t is drawn
// from q(z|h_enc), a decoder LSTM turns it into an additive write on the canvas; after T steps the
// canvas's sigmoid is the image. The loss is written with prob's distributions and IterativeLoss:
//   mean(sum_(t=1..T)[E_f_write(...)[D_KL[q(z|s_enc_next)||p(z)]]] − log p(x|canvas))
// one step of the sum carries the LSTM states and the canvas to the next (update_value).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>

#include "core/export.h"
#include "prob/loss.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

struct DrawOptions {
  std::int64_t x_dim = 784;   // pixels of an image, flattened, values in [0, 1]
  std::int64_t z_dim = 10;    // latent per step (the paper's MNIST: 100)
  std::int64_t hidden = 256;  // units of each LSTM (the paper's MNIST: 256)
  std::int64_t steps = 10;    // T, glimpses (the paper's MNIST without attention: 64)
};

class DrawImpl : public torch::nn::Module {
 public:
  explicit DrawImpl(DrawOptions o = {});
  const DrawOptions& options() const { return o_; }

  // The loss's input for images x [B, x_dim]: x with an empty canvas and zero LSTM states.
  Dict initial(const torch::Tensor& x) const;
  // mean over the batch of the negative ELBO (nats per image, one sample of each z_t).
  const Loss& loss() const { return loss_; }
  // The negative ELBO of each image [B]: KL summed over the steps plus −log p(x|canvas_T).
  torch::Tensor negative_elbo(const torch::Tensor& x) const;
  // n images drawn from the prior: the canvas after each step as probabilities [T, n, x_dim].
  torch::Tensor generate(std::int64_t n) const;

  // One step's factors, in the order they are drawn, and the outer ones.
  DistPtr encoder() const { return encoder_; }  // s_enc_next | x, canvas, s_dec, s_enc (Deterministic)
  DistPtr q() const { return q_; }              // z | s_enc_next (Normal)
  DistPtr decoder() const { return decoder_; }  // s_dec_next | z, s_dec (Deterministic)
  DistPtr writer() const { return write_; }     // canvas_next | canvas, s_dec_next (Deterministic)
  DistPtr prior() const { return prior_; }      // z (N(0, I))
  DistPtr p() const { return p_; }              // x | canvas (Bernoulli of the canvas's logits)
  std::vector<DistPtr> distributions() const { return {encoder_, q_, decoder_, write_, p_}; }

 private:
  // An LSTM's (h, c) travel as one tensor [B, 2·hidden] so each step variable is a single tensor.
  torch::Tensor lstm_step(torch::nn::LSTMCell& cell, const torch::Tensor& input,
                          const torch::Tensor& state) const;

  DrawOptions o_;
  torch::nn::LSTMCell enc_{nullptr}, dec_{nullptr};
  torch::nn::Linear q_head_{nullptr}, write_head_{nullptr};
  DistPtr encoder_, q_, decoder_, write_, prior_, p_;
  Loss per_image_{0.0}, loss_{0.0};
};
TORCH_MODULE(Draw);

}  // namespace dojo::prob

DOJO_PUBLIC_END
